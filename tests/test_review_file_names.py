"""Issue 28: control and bidirectional characters in the names of case files (zip entries,
files in a folder) are refused, and the refusal shows the name with those characters
escaped, so none reaches a revision summary, the audit log, a page or a terminal raw."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.models import AuditEvent, CaseRevision
from casestudies.transfer.casefile import BundleError, dump_case_file, read_bundle, read_bundle_from_zip_bytes

from .conftest import case_data

# Right-to-left override, escape (a terminal's colour codes), a newline, left-to-right isolate.
HOSTILE = ["cases/\u202egnp.md", "\x1b[31mred\x1b[0m.md", "two\nlines.md", "\u2066isolated.md"]
VISIBLE = ["\\u202e", "\\x1b", "\\n", "\\u2066"]


def _zip(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, dump_case_file(case_data(slug="porter-lounge")))
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "visible"), list(zip(HOSTILE, VISIBLE, strict=True)))
def test_a_zip_entry_name_with_a_control_or_bidi_character_is_refused_and_shown_escaped(
    name: str, visible: str
) -> None:
    with pytest.raises(BundleError) as refused:
        read_bundle_from_zip_bytes(_zip(name))
    message = str(refused.value)
    assert visible in message
    assert all(ch.isprintable() for ch in message), repr(message)


def test_the_upload_page_refuses_it_and_stores_nothing(login) -> None:
    client = login("curator")
    response = client.post(
        "/transfer/upload",
        data={"files": [(io.BytesIO(_zip("\u202egnp.md")), "cases.zip")]},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "\u202e" not in page and "\\u202e" in page
    assert not db.session.scalars(select(CaseRevision)).all()
    assert all("\u202e" not in event.detail for event in db.session.scalars(select(AuditEvent)))


def test_import_dry_run_prints_no_escape_sequence_to_the_terminal(app: Flask, runner, tmp_path: Path) -> None:
    bundle = tmp_path / "cases.zip"
    bundle.write_bytes(_zip("\x1b[2J\x1b]0;pwned\x07case.md"))
    result = runner.invoke(args=["import", str(bundle), "--dry-run"])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b" in result.output


def test_a_folder_file_name_with_a_control_character_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "\x1b[31mred.md").write_text(dump_case_file(case_data()), encoding="utf-8")
    with pytest.raises(BundleError, match=r"\\x1b"):
        read_bundle(folder)
