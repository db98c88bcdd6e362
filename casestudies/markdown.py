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


# Where a block (heading, paragraph, list item, quote, code block, rule) starts or ends:
# the text of each block is ended with a sentence break, so that a heading never runs into
# the paragraph after it ("The situation. A young nurse...", not "The situation A young...").
_BLOCK_TAG = re.compile(r"</?(?:h[1-6]|p|li|ul|ol|blockquote|pre)\b[^>]*>|<hr\s*/?>")
_BLOCK_MARK = "\ue000"  # a private-use character, never kept from the author's text
# A block that already ends a sentence, perhaps inside closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")


def markdown_to_text(text: str) -> str:
    """The words of a Markdown text without its markup, for search documents and snippets.
    Each block ends with a sentence break (a full stop is added where it has none)."""
    rendered = _md.render(text.replace(_BLOCK_MARK, " "))
    marked = _BLOCK_TAG.sub(_BLOCK_MARK, rendered)
    stripped = html.unescape(nh3.clean(marked, tags=set()))
    sentences = []
    for block in stripped.split(_BLOCK_MARK):
        words = " ".join(block.split())
        if words:
            sentences.append(words if _SENTENCE_END.search(words) else words + ".")
    return " ".join(sentences)
