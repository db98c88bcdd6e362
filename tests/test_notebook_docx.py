"""The notebook's .docx export: A4 pages, and the writer's paragraphs kept as paragraphs
(a browser sends CRLF; a blank line is one paragraph break, not four line breaks)."""

from __future__ import annotations

import io

from flask import Flask

from .conftest import PASSWORD, ensure_user


def _owner_client(app: Flask):
    owner = ensure_user("learner", email="docx-owner@example.org")
    client = app.test_client()
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
    return client


def _docx(client):
    from docx import Document

    response = client.get("/my/notebook/reflective-accounts.docx")
    assert response.status_code == 200
    return Document(io.BytesIO(response.get_data()))


def _breaks(paragraph) -> int:
    return len(paragraph._p.xpath(".//w:br"))


def test_the_docx_is_a4(app: Flask) -> None:
    document = _docx(_owner_client(app))
    for section in document.sections:
        assert (section.page_width.twips, section.page_height.twips) == (11906, 16838)


def test_a_blank_line_is_one_paragraph_break_and_a_newline_one_line_break(app: Flask) -> None:
    client = _owner_client(app)
    body = "First thought.\r\n\r\nSecond thought,\r\nsame paragraph.\r\n\r\n\r\nThird thought."
    response = client.post("/my/notebook/reflections/new", data={"kind": "free", "title": "Line breaks", "body": body})
    assert response.status_code == 302
    response = client.post(
        "/my/notebook/reflections/new",
        data={"kind": "nmc", "title": "Form", "nature": "What I did.\r\n\r\nWhat I read.", "learned": "x"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    document = _docx(client)
    texts = [p.text for p in document.paragraphs]
    assert "First thought." in texts
    assert "Second thought,\nsame paragraph." in texts
    assert "Third thought." in texts
    for paragraph in document.paragraphs:
        assert _breaks(paragraph) <= 1 or paragraph.text == "", paragraph.text
    second = next(p for p in document.paragraphs if p.text.startswith("Second thought"))
    assert _breaks(second) == 1
    cells = [p.text for table in document.tables for row in table.rows for p in row.cells[0].paragraphs]
    assert "What I did." in cells and "What I read." in cells
