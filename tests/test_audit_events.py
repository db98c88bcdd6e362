"""The audit log's sign-in events, exports, role changes, and its CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies.accounts import services as accounts
from casestudies.audit import services as audit
from casestudies.audit.services import AuditFilters, csv_safe
from casestudies.extensions import db
from casestudies.models import AuditEvent, Role

from .conftest import PASSWORD, ensure_user


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_sign_in_and_sign_out_are_recorded(app: Flask) -> None:
    user = ensure_user("learner")
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    [signed_in] = events("sign-in")
    assert signed_in.actor_id == user.id and user.email in signed_in.detail
    client.post("/logout")
    [signed_out] = events("sign-out")
    assert signed_out.actor_id == user.id


def test_a_failed_sign_in_records_the_email_as_typed_and_never_the_password(app: Flask) -> None:
    ensure_user("learner")
    client = app.test_client()
    response = client.post("/login", data={"email": "  Learner@Example.org ", "password": "hunter2-secret"})
    assert response.status_code == 400
    [failed] = events("sign-in-failed")
    assert failed.actor_id is None
    assert "“  Learner@Example.org ”" in failed.detail and "“  Learner@Example.org ”" in failed.actor_label
    assert "hunter2" not in failed.detail + failed.actor_label
    assert not events("sign-in")


def test_a_throttled_sign_in_is_recorded_as_refused(app: Flask) -> None:
    client = app.test_client()
    for _ in range(6):
        client.post("/login", data={"email": "nobody@example.org", "password": "wrong"})
    assert "refused by throttling" in events("sign-in-failed")[-1].detail


def test_role_changes_are_recorded(app: Flask) -> None:
    admin, learner = ensure_user("admin"), ensure_user("learner")
    accounts.change_role(learner, Role.FACILITATOR, admin)
    db.session.commit()
    [event] = events("user-role")
    assert event.actor_id == admin.id and "learner → facilitator" in event.detail


def test_a_browser_export_is_recorded(login, make_case) -> None:
    from casestudies.jobs import run_jobs

    make_case()
    client = login("curator")
    following = client.post("/transfer/export").headers["Location"]  # the whole library: a job
    assert run_jobs() == 1 and events("export") == []  # made, not yet downloaded
    response = client.get(following + "/download")
    assert response.status_code == 200
    [event] = events("export")
    assert event.actor_id == ensure_user("curator").id and "1 case file(s)" in event.detail


def test_a_command_line_export_is_recorded(app: Flask, make_case, tmp_path) -> None:
    make_case()
    result = app.test_cli_runner().invoke(args=["export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    [event] = events("export")
    assert event.actor_id is None and "command line" in event.detail


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cells_are_safe_from_formula_injection(value, expected) -> None:
    assert csv_safe(value) == expected


def test_the_log_exports_as_csv_with_filters_and_the_export_is_recorded(app: Flask, login, make_case) -> None:
    case = make_case(title="=cmd|' /C calc'!A0")
    curator = ensure_user("curator")
    audit.record(curator, "edit", case=case, detail="@SUM(1+1)")
    db.session.commit()
    client = login("curator")
    response = client.get("/audit/export.csv?action=edit")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == list(audit.CSV_HEADER)
    assert len(table) == 2
    row = dict(zip(table[0], table[1], strict=True))
    assert row["action"] == "edit" and row["detail"] == "'@SUM(1+1)"
    assert row["case"].startswith("'=cmd")
    [event] = events("export")
    assert event.actor_id == curator.id and "action=edit" in event.detail


def test_the_csv_is_streamed_in_batches(app: Flask) -> None:
    curator = ensure_user("curator")
    for n in range(5):
        audit.record(curator, "edit", detail=f"change {n}")
    db.session.commit()
    chunks = list(audit.events_csv(AuditFilters(action="edit"), curator, batch=2))
    text = "".join(chunks)
    assert len(chunks) == 3 and text.count("change ") == 5


def test_bad_filters_are_refused_not_exported(login) -> None:
    response = login("curator").get("/audit/export.csv?since=2026-02-30")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert not events("export")


def test_the_log_page_offers_the_csv(login) -> None:
    page = login("curator").get("/audit?action=sign-in").get_data(as_text=True)
    assert 'href="/audit/export.csv?action=sign-in"' in page
