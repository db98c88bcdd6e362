"""The one Markdown renderer: CommonMark, raw HTML escaped, then an allow-list sanitiser."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# html=False: raw HTML in a body is shown as text, never passed through. The sanitiser
# below is the second wall, in case a renderer rule ever emits something unexpected.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "em",
    "strong",
    "code",
    "pre",
    "a",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# The line breaks of a code block, written as character references: the NHS.UK macros
# indent "html" they are given line by line (the guide's texts in a summary list), which
# added spaces to every line of a <pre> block after the first.
_PRE_BLOCK = re.compile(r"<pre>.*?</pre>", re.DOTALL)


def render_markdown(text: str) -> Markup:
    """Safe HTML for a case body or any other Markdown a user wrote."""
    raw = _md.render(text)
    # A body's "# Heading" would compete with the page's own h1: demote it.
    raw = re.sub(r"<(/?)h1>", r"<\1h2>", raw)
    clean = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    clean = _PRE_BLOCK.sub(lambda block: block.group().replace("\n", "&#10;"), clean)
    return Markup(clean)  # noqa: S704  # nosec B704 - sanitised by nh3 just above


def markdown_to_text(text: str) -> str:
    """The words of a Markdown text without its markup, for search documents and snippets."""
    rendered = _md.render(text)
    stripped = nh3.clean(rendered, tags=set())
    return " ".join(html.unescape(stripped).split())
