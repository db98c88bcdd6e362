"""Messages from templates: templates/mail/<name>.txt (always: the plain text part) and
templates/mail/<name>.html (the HTML part, extending mail/_layout.html). The text part is
rendered without HTML escaping (a link stays a link); the HTML part is autoescaped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from jinja2 import Environment, TemplateNotFound


@dataclass(frozen=True)
class Rendered:
    text: str
    html: str | None


def _text_environment() -> Environment:
    env = current_app.extensions.get("mail_text_jinja")
    if env is None:
        env = current_app.jinja_env.overlay(autoescape=False)
        current_app.extensions["mail_text_jinja"] = env
    return env


def render_mail(name: str, *, subject: str, **context: Any) -> Rendered:
    """The text and HTML parts of templates/mail/<name>.{txt,html} (HTML None if absent)."""
    values = {
        "subject": subject,
        "site_name": "Every Seat",
        "academy_name": current_app.config.get("ACADEMY_NAME", ""),
        **context,
    }
    text = _text_environment().get_template(f"mail/{name}.txt").render(values)
    try:
        html_template = current_app.jinja_env.get_template(f"mail/{name}.html")
    except TemplateNotFound:
        return Rendered(text=_tidy(text), html=None)
    return Rendered(text=_tidy(text), html=html_template.render(values))


def _tidy(text: str) -> str:
    """No run of more than one blank line, no trailing spaces, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out) + "\n"
