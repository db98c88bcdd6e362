"""Import and export in the browser: upload, dry-run report, confirm (all or nothing), the
upload kept server-side for its owner only, limits, and the .zip export."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from casestudies import curation
from casestudies.cases.revisions import case_to_data
from casestudies.extensions import db
from casestudies.indexing import catch_up, check_index
from casestudies.jobs import run_jobs
from casestudies.library.services import search_cases
from casestudies.models import AuditEvent, Case, Job, Role
from casestudies.transfer import uploads as transfer_web
from casestudies.transfer.casefile import BundleFile, dump_case_file
from casestudies.transfer.services import import_cases
from casestudies.transfer.uploads import UploadError

from .conftest import PASSWORD, case_data, ensure_user


def case_file(**overrides) -> bytes:
    return dump_case_file(case_data(**overrides)).encode("utf-8")


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(client, *files: tuple[str, bytes]):
    return client.post(
        "/transfer/upload",
        data={"files": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data",
    )


def token_of(page: str) -> str:
    return page.split('name="upload" value="')[1].split('"')[0]


def case_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Case)) or 0


@pytest.fixture(autouse=True)
def uploads_folder(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    return folder


GOOD = ("porter.md", case_file(slug="porter-lounge", title="The porter and the wombat lounge"))
OTHER = ("clerk.md", case_file(slug="clerk-phones", title="The ward clerk", seat="Ward clerk"))
BAD = ("broken.md", b"---\ntitle: Missing things\ntgas: [x]\n---\nBody\n")


# -- reading the upload -------------------------------------------------------------------------------
def _names(batches) -> list[str]:
    return [f.name for batch in batches() for f in batch]


def test_one_zip_or_several_md_files_are_read(app: Flask) -> None:
    kind, batches = transfer_web.bundle_from_uploads([("cases.zip", make_zip({"a/porter.md": GOOD[1]}))])
    assert kind == "zip" and _names(batches) == ["a/porter.md"]
    kind, batches = transfer_web.bundle_from_uploads([OTHER, GOOD])
    assert kind == "md" and _names(batches) == ["clerk.md", "porter.md"]
    # A browser that sends a path only gets its last part used, and only as a label.
    _, batches = transfer_web.bundle_from_uploads([("C:\\Users\\me\\..\\porter.md", GOOD[1])])
    assert _names(batches) == ["porter.md"]


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        ([], "Choose a .zip file or one or more .md files"),
        ([("", b"")], "Choose a .zip file"),
        ([("notes.txt", b"hello")], "not a .md or .zip file"),
        ([("a.zip", make_zip({"a.md": b"x"})), GOOD], "not both"),
        ([GOOD, ("sub/porter.md", GOOD[1])], "both called “porter.md”"),
        ([("a.zip", b"not a zip at all")], "not a zip file"),
        ([("a.zip", make_zip({"../evil.md": GOOD[1]}))], "outside the zip"),
        ([("a.zip", make_zip({"/etc/evil.md": GOOD[1]}))], "absolute path"),
        ([("a.zip", make_zip({"readme.txt": b"x"}))], "no .md case files"),
    ],
)
def test_an_unusable_upload_is_refused_with_a_clear_message(app: Flask, uploads, message: str) -> None:
    with pytest.raises(UploadError, match=message):
        transfer_web.bundle_from_uploads(uploads)


def test_a_zip_bomb_is_refused(app: Flask) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.md", b"0" * (6 * 1024 * 1024))
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(UploadError, match="limit"):
        transfer_web.bundle_from_uploads([("bomb.zip", buffer.getvalue())])


# -- the two steps ------------------------------------------------------------------------------------
def test_upload_shows_a_dry_run_then_confirm_imports(login, uploads_folder: Path) -> None:
    client = login("curator")
    response = upload(client, GOOD, OTHER)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "porter.md" in page and "clerk.md" in page and "New case" in page
    assert case_count() == 0  # a dry run changes nothing
    token = token_of(page)
    folder = uploads_folder / token
    assert folder.is_dir() and oct(folder.stat().st_mode & 0o777) == "0o700"
    response = client.post("/transfer/import", data={"upload": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/transfer/imports/")
    # The request answers at once; the import is a job, followed on its own page.
    following = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Importing the cases" in following and "Check again" in following and "data-app-job-status" in following
    assert case_count() == 0
    assert not folder.exists()  # the job holds the files now
    assert run_jobs() == 1
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported 2 files: 2 new, 0 updated, 0 unchanged" in done
    assert "2 marked published arrived in review" in done
    assert case_count() == 2
    curator = ensure_user("curator")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert len(events) == 2 and all(e.actor_id == curator.id and e.case_id for e in events)
    catch_up()
    assert check_index().is_clean
    catch_up()
    # Marked published, imported by a curator: in review, so not yet in the learners' library.
    assert db.session.scalar(select(Case.status).where(Case.slug == "porter-lounge")) == "review"
    assert search_cases(ensure_user("learner"), "wombat").items == []
    assert search_cases(curator, "wombat").total == 1
    # Confirming again (a second click) follows the same import: nothing is imported twice.
    again = client.post("/transfer/import", data={"upload": token})
    assert again.headers["Location"] == response.headers["Location"] and run_jobs() == 0


def test_a_second_import_of_the_same_files_reports_them_unchanged(login, make_case) -> None:
    make_case(slug="porter-lounge", title="The porter and the wombat lounge")
    client = login("curator")
    page = upload(client, GOOD, OTHER).get_data(as_text=True)
    assert "Unchanged" in page and "New case" in page
    client.post("/transfer/import", data={"upload": token_of(page)})
    run_jobs()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert len(events) == 1  # one event per created or updated case; none for an unchanged one


def test_an_invalid_file_blocks_the_whole_import_with_file_line_problems(login, uploads_folder: Path) -> None:
    client = login("curator")
    response = upload(client, GOOD, BAD)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "broken.md:3: unknown key &#39;tgas&#39;" in page
    assert "nhsuk-error-summary" in page and "Problems" in page and "No problems" in page
    assert 'name="upload"' not in page  # nothing to confirm
    assert not uploads_folder.exists() or not any(uploads_folder.iterdir())  # nothing kept
    assert case_count() == 0


def test_an_unusable_upload_re_shows_the_form_with_the_message(login) -> None:
    client = login("curator")
    response = upload(client, ("evil.zip", make_zip({"../../etc/passwd.md": b"x"})))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nhsuk-error-summary" in page and "points outside the zip" in page
    response = client.post("/transfer/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a .zip file" in response.get_data(as_text=True)


def test_a_slug_of_a_case_in_the_bin_is_a_problem_not_a_silent_update(login, make_case) -> None:
    case = make_case(slug="porter-lounge", title="Binned original")
    curation.delete_case(case, ensure_user("curator"), "Leaving the library")
    db.session.commit()
    version = case.version  # unpublished on its way to the bin: one revision more
    # The service, as the command line uses it:
    report = import_cases([BundleFile(*GOOD)], actor=None)
    assert not report.ok
    assert str(report.problems[0]).startswith("porter.md:3: slug 'porter-lounge' belongs to a case in the bin")
    # And the page:
    response = upload(login("curator"), GOOD)
    assert response.status_code == 400 and "belongs to a case in the bin" in response.get_data(as_text=True)
    db.session.expire_all()
    binned = db.session.get(Case, case.id)
    assert binned.title == "Binned original" and binned.is_deleted and binned.version == version


def test_if_the_library_changed_since_the_dry_run_the_confirm_reports_it(login, make_case) -> None:
    case = make_case(slug="porter-lounge", title="Live now")
    client = login("curator")
    token = token_of(upload(client, GOOD, OTHER).get_data(as_text=True))
    curation.delete_case(db.session.get(Case, case.id), ensure_user("curator"), "Leaving the library")
    db.session.commit()
    response = client.post("/transfer/import", data={"upload": token})
    run_jobs()
    outcome = client.get(response.headers["Location"])
    assert outcome.status_code == 409 and "belongs to a case in the bin" in outcome.get_data(as_text=True)
    assert "Nothing was imported" in outcome.get_data(as_text=True)
    assert case_count() == 1  # still all or nothing


def test_an_upload_is_only_for_the_user_who_made_it(app: Flask, login) -> None:
    token = token_of(upload(login("curator"), GOOD).get_data(as_text=True))
    response = login("admin").post("/transfer/import", data={"upload": token})
    assert response.status_code == 410 and "no longer here" in response.get_data(as_text=True)
    assert case_count() == 0


@pytest.mark.parametrize("token", ["", "../../etc", "a" * 31, "../" + "a" * 40, "a/b" * 20])
def test_a_token_is_never_a_path(login, token: str) -> None:
    assert login("curator").post("/transfer/import", data={"upload": token}).status_code == 410


def test_an_upload_expires_after_an_hour(app: Flask, login, uploads_folder: Path) -> None:
    client = login("curator")
    token = token_of(upload(client, GOOD).get_data(as_text=True))
    meta_path = uploads_folder / token / "upload.json"
    meta = json.loads(meta_path.read_text())
    meta["created"] = time.time() - 3601
    meta_path.write_text(json.dumps(meta))
    assert client.post("/transfer/import", data={"upload": token}).status_code == 410
    assert not (uploads_folder / token).exists()
    assert case_count() == 0


def test_old_uploads_are_purged_at_the_next_upload(app: Flask, login, uploads_folder: Path) -> None:
    client = login("curator")
    token = token_of(upload(client, GOOD).get_data(as_text=True))
    meta_path = uploads_folder / token / "upload.json"
    meta = json.loads(meta_path.read_text())
    meta["created"] = time.time() - 7200
    meta_path.write_text(json.dumps(meta))
    fresh = token_of(upload(client, OTHER).get_data(as_text=True))
    assert not (uploads_folder / token).exists() and (uploads_folder / fresh).exists()


def test_discard_removes_the_upload(login, uploads_folder: Path) -> None:
    client = login("curator")
    token = token_of(upload(client, GOOD).get_data(as_text=True))
    response = client.post("/transfer/discard", data={"upload": token})
    assert response.status_code == 302 and not (uploads_folder / token).exists()
    assert case_count() == 0


def test_a_too_large_upload_gets_a_clear_413_page(app: Flask, login) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = upload(login("curator"), ("big.md", b"x" * 5000))
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The upload is too large" in page and "Nothing was imported" in page
    assert 'type="file"' in page  # the form is there to try again


def test_a_too_large_upload_gets_the_clear_page_with_csrf_on_too(csrf_app: Flask) -> None:
    from .conftest import PASSWORD

    csrf_app.config["MAX_CONTENT_LENGTH"] = 2000
    client = csrf_app.test_client()
    user = ensure_user("curator")
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    response = client.post(
        "/transfer/upload",
        data={"csrf_token": token, "files": [(io.BytesIO(b"x" * 5000), "big.md")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "Nothing was imported" in response.get_data(as_text=True)


# -- export -------------------------------------------------------------------------------------------
def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def export_library(client) -> tuple[str, object]:
    """Ask for the whole library's export, let the job run, download it: (page, download)."""
    asked = client.post("/transfer/export")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/transfer/exports/")
    assert run_jobs() == 1
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    return page, client.get(asked.headers["Location"] + "/download")


FIXED_STAMP = time.struct_time((2026, 12, 7, 10, 30, 0, 0, 341, 0))


@pytest.fixture
def fixed_zip_time(monkeypatch) -> None:
    """A zip entry's time is the time it is made: fixed, so two exports can be compared."""
    import types

    monkeypatch.setattr(transfer_web, "time", types.SimpleNamespace(localtime=lambda *_: FIXED_STAMP))


def test_the_whole_library_is_exported_by_a_job_and_downloaded_when_ready(login, make_case) -> None:
    make_case(slug="porter-lounge")
    make_case(slug="draft-one", title="A draft", status="draft")
    binned = make_case(slug="in-the-bin", title="Binned")
    curation.delete_case(binned, ensure_user("curator"), "Leaving the library")
    db.session.commit()
    client = login("curator")
    index = client.get("/transfer/").get_data(as_text=True)
    assert 'action="/transfer/export"' in index and "Export the whole library (.zip)" in index
    # The old link (and a search with no words or filters) leads to the page's export form.
    old_link = client.get("/transfer/export")
    assert old_link.status_code == 303 and old_link.headers["Location"] == "/transfer/#export"
    asked = client.post("/transfer/export")
    following = asked.headers["Location"]
    # The request answers at once with a page that follows the job.
    page = client.get(following)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Exporting the library" in text and "data-app-job-status" in text and "Check again" in text
    assert f'data-app-job-next="{following}"' in text and f'href="{following}"' in text
    assert client.get(following + "/download").status_code == 409  # not made yet
    # Asked again while it waits: the same job.
    assert client.post("/transfer/export").headers["Location"] == following
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
    # Another curator can't follow or download it.
    other = login("admin")
    assert other.get(following).status_code == 404 and other.get(following + "/download").status_code == 404
    assert run_jobs() == 1
    done = client.get(following).get_data(as_text=True)
    assert "The export is ready" in done and f'href="{following}/download"' in done
    response = client.get(following + "/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="every-seat-library-')
    files = read_zip(response.get_data())
    assert sorted(files) == ["draft-one.md", "porter-lounge.md"]  # drafts too; not the bin
    case = db.session.scalar(select(Case).where(Case.slug == "porter-lounge"))
    assert files["porter-lounge.md"].decode() == dump_case_file(case_to_data(case))
    # Each download is in the audit log, as the streamed one was.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [e.detail.split(": ")[1] for e in events] == ["2 case file(s)"]
    # Once it is finished, asking again makes a new export (the library may have changed).
    assert client.post("/transfer/export").headers["Location"] != following


def test_asking_for_the_export_needs_the_pages_csrf_token(csrf_app: Flask) -> None:
    import re

    ensure_user("curator")
    db.session.commit()
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)[1]
    form = {"email": "curator@example.org", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302
    assert client.post("/transfer/export").status_code == 400  # no token: refused, nothing queued
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    page = client.get("/transfer/").get_data(as_text=True)
    token = re.search(
        r'action="/transfer/export"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page
    )[1]
    asked = client.post("/transfer/export", data={"csrf_token": token})
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/transfer/exports/")


def test_the_exports_zip_is_the_one_the_streamed_export_gave(login, make_case, fixed_zip_time) -> None:
    make_case(slug="porter-lounge")
    make_case(slug="clerk-phones", title="The ward clerk", tags=("phones",), status="draft")
    curator = ensure_user("curator")
    streamed = b"".join(transfer_web.zip_chunks(transfer_web.export_cases_for(curator).entries))
    db.session.commit()
    _, download = export_library(login("curator"))
    assert download.get_data() == streamed


def test_export_import_export_is_byte_identical(
    app: Flask, login, make_case, tmp_path: Path, migrated_db_template, fixed_zip_time
) -> None:
    from .conftest import make_test_app

    make_case(slug="porter-lounge")
    make_case(slug="clerk-phones", title="The ward clerk", tags=("phones",), status="draft")
    make_case(slug="night-shift", title="The night shift", seat="Ward clerk", status="review")
    _, first = export_library(login("curator"))
    exported = read_zip(first.get_data())
    # Into an empty library (another app, its own database), then exported from there.
    (tmp_path / "other").mkdir()
    other = make_test_app(tmp_path / "other", migrated_db_template, WTF_CSRF_ENABLED=False)
    try:
        with other.app_context():
            report = import_cases([BundleFile(name, data) for name, data in exported.items()], actor=None, publish=True)
            assert report.ok and sorted(report.created) == sorted(exported)
            db.session.commit()
            ensure_user("curator")
            client = other.test_client()
            assert client.post("/login", data={"email": "curator@example.org", "password": PASSWORD}).status_code == 302
            _, second = export_library(client)
            assert second.get_data() == first.get_data()
            db.session.remove()
    finally:
        with other.app_context():
            other.extensions["search_index"].close()
            db.engine.dispose()


def test_an_export_asked_by_someone_no_longer_a_curator_is_refused(login, make_case) -> None:
    make_case(slug="porter-lounge")
    client = login("curator")
    following = client.post("/transfer/export").headers["Location"]
    ensure_user("curator").role = Role.LEARNER
    db.session.commit()
    assert run_jobs() == 1
    job = db.session.scalar(select(Job))
    assert job.state == "refused" and "can no longer export" in (job.error or "") and job.result is None
    assert client.get(following).status_code == 403  # the page itself is for curators


def test_export_the_results_of_a_search(login, make_case) -> None:
    make_case(slug="porter-lounge", title="The porter and the wombat lounge")
    make_case(slug="clerk-phones", title="The ward clerk and the wombat phones", seat="Ward clerk")
    make_case(slug="unrelated", title="Nothing to see")
    client = login("curator")
    response = client.get("/transfer/export?q=wombat")
    assert sorted(read_zip(response.get_data())) == ["clerk-phones.md", "porter-lounge.md"]
    assert 'filename="every-seat-search-wombat-' in response.headers["Content-Disposition"]
    response = client.get("/transfer/export?q=wombat&seat=Porter")
    assert sorted(read_zip(response.get_data())) == ["porter-lounge.md"]
    response = client.get("/transfer/export?q=zzzqqqxx")
    assert read_zip(response.get_data()) == {}


def test_the_search_page_offers_curators_an_export_of_its_results(login, make_case) -> None:
    make_case(slug="porter-lounge", title="The porter and the wombat lounge")
    catch_up()
    page = login("curator").get("/search?q=wombat&seat=Porter").get_data(as_text=True)
    assert "Export these results" in page and "/transfer/export?q=wombat&amp;seat=Porter" in page
    catch_up()
    assert "Export these results" not in login("learner").get("/search?q=wombat").get_data(as_text=True)


# -- large zips, in batches ---------------------------------------------------------------------------
@pytest.mark.slow
def test_a_zip_of_more_than_5000_case_files_is_checked_and_imported_in_batches(
    app: Flask, login, uploads_folder: Path
) -> None:
    count = 5003
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in range(count):
            archive.writestr(f"cases/case-{n:05}.md", case_file(slug=f"many-{n}", title=f"Many cases, number {n}"))
    assert len(buffer.getvalue()) < app.config["MAX_CONTENT_LENGTH"]
    client = login("curator")
    checked = upload(client, ("many.zip", buffer.getvalue()))
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200, page[:1000]
    assert "cases/case-05002.md" in page
    confirmed = client.post("/transfer/import", data={"upload": token_of(page)})
    assert confirmed.status_code == 302
    assert run_jobs() == 1
    assert case_count() == count
    assert "Imported 5003 files: 5003 new" in client.get(confirmed.headers["Location"]).get_data(as_text=True)


def test_a_zip_read_in_batches_is_checked_whole_before_anything_is_written(
    app: Flask, login, uploads_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer_web, "UPLOAD_BATCH_FILES", 2)
    client = login("curator")
    # The same slug in the first and the last batch: found although no batch holds both.
    twice = make_zip(
        {f"{n}.md": case_file(slug=f"batch-{n}", title=f"Batch case {n}") for n in range(5)}
        | {"9.md": case_file(slug="batch-0", title="Batch case again")}
    )
    response = upload(client, ("twice.zip", twice))
    assert response.status_code == 400
    assert "slug &#39;batch-0&#39; is also used by 0.md" in response.get_data(as_text=True)
    assert case_count() == 0
    # A problem in a later batch: nothing of the earlier batches is written.
    late = make_zip(
        {f"{n}.md": case_file(slug=f"batch-{n}", title=f"Batch case {n}") for n in range(5)} | {"9.md": BAD[1]}
    )
    assert upload(client, ("late.zip", late)).status_code == 400
    assert case_count() == 0
    good = make_zip({f"{n}.md": case_file(slug=f"batch-{n}", title=f"Batch case {n}") for n in range(5)})
    page = upload(client, ("good.zip", good)).get_data(as_text=True)
    assert client.post("/transfer/import", data={"upload": token_of(page)}).status_code == 302
    run_jobs()
    assert case_count() == 5


def test_an_import_started_by_someone_no_longer_a_curator_is_refused_and_changes_nothing(login) -> None:
    client = login("curator")
    token = token_of(upload(client, GOOD).get_data(as_text=True))
    confirmed = client.post("/transfer/import", data={"upload": token})
    curator = ensure_user("curator")
    curator.role = "learner"  # demoted before the job ran
    db.session.commit()
    assert run_jobs() == 1
    assert case_count() == 0
    job = db.session.scalar(select(Job).where(Job.kind == "import_cases"))
    assert job.state == "refused" and "can no longer import cases" in (job.error or "")
    curator.role = "curator"
    db.session.commit()
    assert "can no longer import cases" in client.get(confirmed.headers["Location"]).get_data(as_text=True)
