"""The notebook's exports, for its owner only: reflective accounts as PDF (one account a
page, laid out like the NMC form, then the CPD log) and as .docx, the CPD log as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from casestudies.audit.services import csv_safe
from casestudies.learning.notebook import NMC_QUESTIONS, OpenCpdEntry, OpenReflection
from casestudies.slugs import slugify

CSV_HEADER = (
    "date",
    "method",
    "topic",
    "hours",
    "participatory",
    "theme of the Code",
    "notes",
    "linked reflections",
)


def export_filename(owner_name: str, what: str, extension: str, today: date) -> str:
    return f"{slugify(owner_name, 40) or 'my'}-{what}-{today.isoformat()}.{extension}"


def cpd_csv(entries: list[OpenCpdEntry]) -> str:
    """The CPD log as CSV; every cell made inert for spreadsheets (csv_safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for opened in entries:
        writer.writerow(
            [
                csv_safe(value)
                for value in (
                    opened.entry.done_on.isoformat(),
                    opened.method_label,
                    opened.topic,
                    opened.hours,
                    "yes" if opened.entry.is_participatory else "no",
                    opened.theme_label,
                    opened.notes,
                    "; ".join(r.text.title for r in opened.reflections),
                )
            ]
        )
    return buffer.getvalue()


# Characters XML 1.0 does not allow (python-docx refuses them): C0 controls but tab and newlines.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def accounts_docx(owner_name: str, reflections: list[OpenReflection]) -> bytes:
    """The reflective accounts as a Word document: one account a page, each a table of the
    NMC form's questions and the writer's answers."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    document = Document()
    _a4(document)
    document.core_properties.title = "Reflective accounts"
    document.core_properties.author = owner_name
    for number, opened in enumerate(reflections, start=1):
        if number > 1:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        text = opened.text
        document.add_heading(_xml_text(f"Reflective account {number}: {text.title}"), level=1)
        if text.kind == "nmc":
            table = document.add_table(rows=0, cols=1)
            table.style = "Table Grid"
            rows = [("Date (month and year)", opened.when or "Not given")]
            if opened.case is not None:
                rows.append(("Case studied", opened.case.title))
            rows += [(question, getattr(text, name) or "") for name, question in NMC_QUESTIONS]
            rows.append(("Themes of the Code", ", ".join(opened.theme_labels) or "None chosen"))
            for question, answer in rows:
                heading = table.add_row().cells[0].paragraphs[0].add_run(_xml_text(question))
                heading.bold = True
                cell = table.add_row().cells[0]
                _paragraphs(cell, answer)
        else:
            if opened.when:
                document.add_paragraph(f"Date (month and year): {opened.when}")
            if opened.case is not None:
                document.add_paragraph(_xml_text(f"Case studied: {opened.case.title}"))
            for paragraph in _blocks(text.body):
                document.add_paragraph(paragraph)
            if opened.theme_labels:
                document.add_paragraph("Themes of the Code: " + ", ".join(opened.theme_labels))
    if not reflections:
        document.add_paragraph("Your notebook has no reflective accounts yet.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# A4 in twentieths of a point (the academy prints on A4; python-docx's template is US Letter).
A4_TWIPS = (11906, 16838)
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def _a4(document) -> None:
    from docx.shared import Twips

    for section in document.sections:
        section.page_width, section.page_height = (Twips(value) for value in A4_TWIPS)


def _blocks(text: str) -> list[str]:
    """Paragraphs of a writer's text: browsers send CRLF, and python-docx makes each CR and
    each LF a line break, so line endings are made LF first; a blank line (or several) then
    ends a paragraph, and a single newline stays one line break within it."""
    text = _xml_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    return [part.strip() for part in _BLANK_LINE.split(text) if part.strip()]


def _paragraphs(cell, text: str) -> None:
    parts = _blocks(text) or [""]
    cell.paragraphs[0].text = parts[0]
    for part in parts[1:]:
        cell.add_paragraph(part)
