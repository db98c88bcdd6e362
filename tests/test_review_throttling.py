"""Issue 28, refused sign-ins: the audit log can't be flooded (repeats are counted on one
row per account or address and window), it has a retention period, the per-address lock
counts distinct accounts, and production warns about forwarded addresses it ignores."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, insert, select

from casestudies.audit import services as audit
from casestudies.extensions import db
from casestudies.models import AuditEvent, LoginAttempt, utcnow

from .conftest import PASSWORD, app_context_for, ensure_user, make_test_app


def _sign_in(client, email: str, password: str, address: str = "10.0.0.1", **kwargs):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}, **kwargs
    )


def _failed_rows() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign-in-failed")))


def test_300_refused_sign_ins_add_a_handful_of_audit_rows_with_their_count(app: Flask) -> None:
    client = app.test_client()
    for n in range(300):
        # Thirty accounts guessed ten times each: wrong passwords, then throttling.
        _sign_in(client, f"guess{n % 30}@example.org", "wrong password!", address="10.6.6.6")
    rows = _failed_rows()
    # At most one row per account tried before the address was blocked (20), plus one for
    # the throttled refusals from the address.
    assert len(rows) <= 21, len(rows)
    assert sum(row.count for row in rows) == 300
    throttled = [row for row in rows if "throttling" in row.detail]
    assert len(throttled) == 1 and "10.6.6.6" in throttled[0].detail and throttled[0].count > 200
    # The page says how many times.
    admin = app.test_client()
    ensure_user("admin")
    _sign_in(admin, "admin@example.org", PASSWORD, address="10.0.0.2")
    assert f"{throttled[0].count} times" in admin.get("/audit").get_data(as_text=True)


def test_repeated_refusals_start_a_new_row_in_the_next_window(app: Flask) -> None:
    client = app.test_client()
    for _ in range(3):
        _sign_in(client, "nobody@example.org", "wrong password!")
    [row] = _failed_rows()
    assert row.count == 3
    row.created_at = utcnow() - audit.REPEAT_WINDOW - timedelta(seconds=1)
    db.session.commit()
    _sign_in(client, "nobody@example.org", "wrong password!")
    assert sorted(row.count for row in _failed_rows()) == [1, 3]


def test_prune_applies_the_audit_retention_setting(app: Flask, runner) -> None:
    old = audit.record(None, "export", detail="long ago")
    kept = audit.record(None, "export", detail="last year")
    db.session.flush()
    old.created_at = utcnow() - timedelta(days=731)
    kept.created_at = utcnow() - timedelta(days=365)
    db.session.commit()
    result = runner.invoke(args=["prune"])
    assert result.exit_code == 0, result.output
    assert [event.detail for event in db.session.scalars(select(AuditEvent))] == ["last year"]
    app.config["AUDIT_RETENTION_DAYS"] = 30
    assert runner.invoke(args=["prune"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_many_failures_for_one_account_dont_lock_the_address_for_everyone(app: Flask) -> None:
    """Behind NAT one person's forgotten password must not block their colleagues: the
    per-address limit counts distinct accounts tried."""
    ensure_user("learner")
    now = utcnow()
    with db.engine.begin() as connection:
        for n in range(25):
            connection.execute(
                insert(LoginAttempt).values(
                    email="forgetful@example.org", address="10.5.5.5", created_at=now - timedelta(seconds=60 + n)
                )
            )
    assert _sign_in(app.test_client(), "learner@example.org", PASSWORD, address="10.5.5.5").status_code == 302


def test_production_warns_when_forwarded_addresses_arrive_and_no_proxy_is_trusted(
    tmp_path, migrated_db_template, caplog
) -> None:
    app = make_test_app(
        tmp_path,
        migrated_db_template,
        EVERY_SEAT_ENV="production",
        SECRET_KEY="a varied production key, 32+ bytes long!",
        PASSWORD_HASH_METHOD="scrypt",
    )
    with app_context_for(app), caplog.at_level(logging.WARNING):
        client = app.test_client()
        client.get("/login", headers={"X-Forwarded-For": "203.0.113.9"})
        client.get("/login", headers={"X-Forwarded-For": "203.0.113.9"})
        warnings = [record for record in caplog.records if "TRUSTED_PROXIES" in record.getMessage()]
        assert len(warnings) == 1  # once per process, not per request
        assert "X-Forwarded-For" in warnings[0].getMessage()
