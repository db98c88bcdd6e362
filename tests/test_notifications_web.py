"""The notifications pages through HTTP: the list (newest first, paged), the header's unread
count, marking read, following a notification to the thing itself, choices per kind, and the
one-click unsubscribe a mail client calls without a session (CSRF on, as in production)."""

from __future__ import annotations

import json
import re

from flask import Flask
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.mail.delivery import build_message
from casestudies.models import Job, Notification, NotificationPreference, User
from casestudies.notifications import kinds, services

from .conftest import ensure_user


def _tell(user: User, count: int = 1, kind: str = kinds.REPORT_RESOLVED, link: str = "/my-reports") -> None:
    for i in range(count):
        services.notify([user], kind, title=f"Notice {i + 1}", body=f"Line one\nLine two {i + 1}", link=link)
    db.session.commit()


def _unread_in_header(html: str) -> str | None:
    found = re.search(r'id="unread-count">(\d+)<', html)
    return found.group(1) if found else None


def test_the_list_is_newest_first_paged_with_the_unread_count_in_the_header(app: Flask, login) -> None:
    client = login("learner")
    learner = ensure_user("learner")
    assert _unread_in_header(client.get("/cases").get_data(as_text=True)) is None
    _tell(learner, services.PER_PAGE + 1)
    html = client.get("/notifications").get_data(as_text=True)
    assert _unread_in_header(html) == str(services.PER_PAGE + 1)
    assert html.index("Notice 21") < html.index("Notice 20") and "Notice 1<" not in html
    assert "Line two 21" in html
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert "Notice 1<" in second and "Notice 2<" not in second
    # Someone else's notifications are not counted or shown.
    _tell(ensure_user("facilitator"), 3)
    assert _unread_in_header(client.get("/cases").get_data(as_text=True)) == str(services.PER_PAGE + 1)


def test_following_marking_read_and_marking_all_read(app: Flask, login) -> None:
    client = login("learner")
    learner = ensure_user("learner")
    _tell(learner, 3)
    first, second, third = db.session.scalars(select(Notification.id).order_by(Notification.id)).all()
    response = client.get(f"/notifications/{first}")
    assert response.status_code == 302 and response.headers["Location"] == "/my-reports"
    assert _unread_in_header(client.get("/cases").get_data(as_text=True)) == "2"
    assert client.post(f"/notifications/{second}/read").status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, second).read_at is not None
    assert db.session.get(Notification, third).read_at is None
    client.post("/notifications/read-all")
    assert _unread_in_header(client.get("/cases").get_data(as_text=True)) is None
    assert "Nothing unread" in client.get("/notifications").get_data(as_text=True)


def test_another_persons_notification_is_not_found(app: Flask, login) -> None:
    _tell(ensure_user("facilitator"))
    note_id = db.session.scalar(select(Notification.id))
    client = login("learner")
    assert client.get(f"/notifications/{note_id}").status_code == 404
    assert client.post(f"/notifications/{note_id}/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, note_id).read_at is None


def test_a_link_that_is_not_a_local_path_is_never_followed(app: Flask, login) -> None:
    client = login("learner")
    _tell(ensure_user("learner"), link="//evil.example/x")
    note_id = db.session.scalar(select(Notification.id))
    assert client.get(f"/notifications/{note_id}").headers["Location"] == "/notifications"


def test_choices_are_saved_and_a_bad_choice_is_a_clear_400(app: Flask, login, make_case) -> None:
    make_case(seat="Porter")
    client = login("learner")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "A problem you reported was resolved" in page and "A case or a change waits for review" not in page
    assert 'value="Porter"' in page
    response = client.post(
        "/notifications/preferences",
        data={"kind-report-resolved": "off", "kind-weekly-digest": "app", "seat": ["Porter"]},
    )
    assert response.status_code == 302
    learner = ensure_user("learner")
    assert dict((k.key, c) for k, c in services.preferences(learner)) == {
        kinds.REPORT_RESOLVED: kinds.OFF,
        kinds.WEEKLY_DIGEST: kinds.APP,
    }
    assert services.digest_topics(learner) == (["Porter"], [])
    bad = client.post("/notifications/preferences", data={"kind-weekly-digest": "pigeon"})
    assert bad.status_code == 400 and "Choose how to be told" in bad.get_data(as_text=True)
    refused = client.post("/notifications/preferences", data={"kind-review-requested": "email"})
    assert refused.status_code == 302  # a kind not offered to the role is ignored, not saved
    assert db.session.get(NotificationPreference, (learner.id, kinds.REVIEW_REQUESTED)) is None


def test_one_click_unsubscribe_from_a_mail_without_a_session_or_csrf_token(csrf_app: Flask) -> None:
    with csrf_app.app_context():
        learner = ensure_user("learner")
        services.notify([learner], kinds.REPORT_RESOLVED, title="Resolved", body="", link="/my-reports")
        db.session.commit()
        job = db.session.scalar(select(Job).where(Job.kind == "mail"))
        payload = json.loads(job.payload)
        message = build_message(job, payload)
        assert message.extra_headers["List-Unsubscribe"] == f"<{payload['unsubscribe_url']}>"
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        path = payload["unsubscribe_url"].removeprefix("http://127.0.0.1:5000")
        assert path.startswith("/notifications/unsubscribe/")
        client = csrf_app.test_client()
        page = client.get(path)
        assert page.status_code == 200 and "Stop these emails" in page.get_data(as_text=True)
        assert services.channel_of(learner, kinds.REPORT_RESOLVED) == kinds.EMAIL  # a GET changes nothing
        done = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "Emails stopped" in done.get_data(as_text=True)
        db.session.expire_all()
        # Email off for that kind only; it stays in the app.
        assert services.channel_of(learner, kinds.REPORT_RESOLVED) == kinds.APP
        assert services.channel_of(learner, kinds.WEEKLY_DIGEST) == kinds.OFF
        assert client.post(path + "x").status_code == 404
