"""Single sign-on against a real OpenID provider (tests/oidc/provider.mjs), and the ID token
checks against tokens signed by a key this test serves (wrong issuer, audience, expiry...)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from casestudies.accounts import oidc
from casestudies.extensions import db
from casestudies.models import AuditEvent, Role, User, UserSession

from .conftest import PASSWORD, app_context_for, ensure_user, make_test_app
from .oidc_fixtures import CLIENT_ID, oidc_settings

APP = "http://127.0.0.1"  # the test client's base URL: the provider allows loopback redirect URIs


@pytest.fixture
def sso_app(tmp_path: Path, migrated_db_template, oidc_provider: str) -> Iterator[Flask]:
    app = make_test_app(tmp_path, migrated_db_template, WTF_CSRF_ENABLED=False, **oidc_settings(oidc_provider))
    with app_context_for(app):
        yield app


def _provider_sign_in(authorize_url: str, login: str) -> str:
    """What the person does at the provider: its login page, their name. Returns the URL
    the provider sends the browser back to."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(10):
        location = response.headers.get("Location", "")
        if location.startswith(APP + "/login/sso/callback"):
            return location
        assert response.status_code in (302, 303), (response.status_code, response.text[:500])
        url = requests.compat.urljoin(response.url, location)
        response = browser.get(url, allow_redirects=False, timeout=10)
        if "/interaction/" in url and response.status_code == 200 and "Login name" in response.text:
            response = browser.post(url + "/login", data={"login": login}, allow_redirects=False, timeout=10)
    raise AssertionError("the provider did not send the browser back")


def _start(client) -> str:
    response = client.post("/login/sso", data={"next": "/cases"}, base_url=APP)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def _callback(client, url: str):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}", base_url=APP)


def _sign_in(client, login: str):
    return _callback(client, _provider_sign_in(_start(client), login))


def test_the_flow_signs_in_with_pkce_and_creates_the_account_with_its_mapped_role(sso_app: Flask) -> None:
    client = sso_app.test_client()
    authorize = _start(client)
    query = dict(part.split("=", 1) for part in urlsplit(authorize).query.split("&"))
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] and query["nonce"] and query["state"]
    response = _callback(client, _provider_sign_in(authorize, "alice"))
    assert response.status_code == 302 and response.headers["Location"] == "/cases"
    assert client.get("/curate/", base_url=APP).status_code == 200  # a curator
    user = db.session.scalar(select(User).where(User.email == "alice@trust.example"))
    assert user is not None and user.role == Role.CURATOR and user.name == "Alice Curator"
    assert user.oidc_subject == "alice" and user.oidc_issuer == sso_app.config["OIDC_ISSUER"]
    assert user.password_hash == "" and not user.check_password("")
    [row] = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert row.method == "single sign-on" and row.ended_at is None
    details = [e.detail for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert any("at first single sign-on" in d for d in details) and any(
        "signed in with single sign-on" in d for d in details
    )
    client.post("/logout", base_url=APP)
    assert client.get("/cases", base_url=APP).status_code == 302


def test_the_highest_mapped_role_wins_and_follows_the_groups_at_every_sign_in(sso_app: Flask) -> None:
    assert _sign_in(sso_app.test_client(), "bob").status_code == 302
    bob = db.session.scalar(select(User).where(User.email == "bob@trust.example"))
    assert bob.role == Role.ADMIN  # grp-admins and grp-staff
    bob.role = Role.LEARNER  # changed here; the provider's groups say otherwise
    db.session.commit()
    assert _sign_in(sso_app.test_client(), "bob").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, bob.id).role == Role.ADMIN
    assert db.session.scalar(select(User).where(User.email == "bob@trust.example")).id == bob.id  # the same account


def test_no_mapped_group_means_no_access_and_no_account(sso_app: Flask) -> None:
    response = _sign_in(sso_app.test_client(), "carol")
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and "not in a group that gives access" in html
    assert db.session.scalar(select(User).where(User.email == "carol@trust.example")) is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign-in-refused")) is not None


def test_losing_every_mapped_group_ends_the_accounts_sessions(sso_app: Flask) -> None:
    client = sso_app.test_client()
    assert _sign_in(client, "dan").status_code == 302
    dan = db.session.scalar(select(User).where(User.email == "dan@trust.example"))
    dan.oidc_subject = "carol"  # the provider now says: this person is in no mapped group
    db.session.commit()
    assert _sign_in(sso_app.test_client(), "carol").status_code == 403
    assert client.get("/cases", base_url=APP).status_code == 302


def test_signing_in_again_as_someone_else_ends_the_first_session(sso_app: Flask) -> None:
    client = sso_app.test_client()
    _sign_in(client, "dan")
    _sign_in(client, "alice")
    dan = db.session.scalar(select(User).where(User.email == "dan@trust.example"))
    # Ended (and its row pruned at Alice's sign-in, as ended sessions are).
    live = select(UserSession).where(UserSession.user_id == dan.id, UserSession.ended_at.is_(None))
    assert db.session.scalars(live).all() == []


def test_a_replayed_state_is_refused(sso_app: Flask) -> None:
    client = sso_app.test_client()
    back = _provider_sign_in(_start(client), "dan")
    before = client.get_cookie("session", domain="127.0.0.1").value
    assert _callback(client, back).status_code == 302
    client.post("/logout", base_url=APP)
    again = _callback(client, back)  # the same state: no longer known to the session
    assert again.status_code == 400 and "expired or was already used" in again.get_data(as_text=True)
    # The cookie from before the callback still holds the state: the code is refused then.
    replay = sso_app.test_client()
    replay.set_cookie("session", before, domain="127.0.0.1")
    refused = _callback(replay, back)
    assert refused.status_code == 400 and "could not be completed" in refused.get_data(as_text=True)
    assert replay.get("/cases", base_url=APP).status_code == 302


def test_a_wrong_nonce_is_refused(sso_app: Flask) -> None:
    client = sso_app.test_client()
    back = _provider_sign_in(_start(client), "dan")
    with client.session_transaction(base_url=APP) as session:
        [key] = [k for k in session if k.startswith("_state_")]
        stored = session[key]
        stored["data"]["nonce"] = "not-the-nonce-sent"
        session[key] = stored
    response = _callback(client, back)
    assert response.status_code == 400 and "could not be verified" in response.get_data(as_text=True)
    assert client.get("/cases", base_url=APP).status_code == 302
    assert db.session.scalar(select(User).where(User.email == "dan@trust.example")) is None


def test_a_callback_without_state_or_with_a_provider_error_is_refused(sso_app: Flask) -> None:
    client = sso_app.test_client()
    assert client.get("/login/sso/callback?code=x", base_url=APP).status_code == 400
    back = _start(client)
    state = dict(p.split("=", 1) for p in urlsplit(back).query.split("&"))["state"]
    response = client.get(f"/login/sso/callback?state={state}&error=access_denied", base_url=APP)
    assert response.status_code == 400


def test_a_single_sign_on_account_cannot_sign_in_with_a_password(sso_app: Flask) -> None:
    _sign_in(sso_app.test_client(), "alice")
    response = sso_app.test_client().post(
        "/login", data={"email": "alice@trust.example", "password": "anything at all"}
    )
    assert response.status_code == 400 and "organisation account" in response.get_data(as_text=True)
    client = sso_app.test_client()
    _sign_in(client, "alice")
    page = client.get("/account/password", base_url=APP).get_data(as_text=True)
    assert "has no password here" in page and 'name="current_password"' not in page


def test_a_local_account_with_the_same_email_is_not_taken_over(sso_app: Flask) -> None:
    ensure_user("learner", email="alice@trust.example")
    response = _sign_in(sso_app.test_client(), "alice")
    assert response.status_code == 403 and "signs in with a password already uses" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "alice@trust.example")).oidc_subject is None


def test_local_sign_in_can_be_switched_off(tmp_path: Path, migrated_db_template, oidc_provider: str) -> None:
    app = make_test_app(
        tmp_path,
        migrated_db_template,
        WTF_CSRF_ENABLED=False,
        LOCAL_LOGIN_ENABLED=False,
        **oidc_settings(oidc_provider),
    )
    with app_context_for(app):
        ensure_user("admin")
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert "Sign in with your organisation account" in page and 'name="password"' not in page
        refused = client.post("/login", data={"email": "admin@example.org", "password": PASSWORD})
        assert refused.status_code == 403 and client.get("/cases").status_code == 302


def test_the_sign_in_page_offers_what_is_on(sso_app: Flask, app: Flask) -> None:
    answer = sso_app.test_client().get("/login")
    # The button's form redirects to the provider: the policy lets it.
    assert f"form-action 'self' {sso_app.config['OIDC_ISSUER']};" in answer.headers["Content-Security-Policy"]
    both = answer.get_data(as_text=True)
    assert "Sign in with your organisation account" in both and 'name="password"' in both
    with app.app_context():
        local_only = app.test_client().get("/login").get_data(as_text=True)
    assert "organisation account" not in local_only and 'name="password"' in local_only


def test_the_new_routes_by_role(sso_app: Flask) -> None:
    """With single sign-on on: both routes are open to anyone (they are how one signs in)."""
    assert _start(sso_app.test_client()).startswith(sso_app.config["OIDC_ISSUER"] + "/auth?")
    ensure_user("admin")
    signed_in = sso_app.test_client()
    signed_in.post("/login", data={"email": "admin@example.org", "password": PASSWORD})
    assert signed_in.post("/login/sso", base_url=APP).status_code == 302
    assert signed_in.get("/login/sso/callback", base_url=APP).status_code == 400  # no state: refused, never a 500


def test_start_up_refuses_bad_settings(tmp_path: Path) -> None:
    from app import create_app

    base = {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SEARCH_INDEX_DIR": str(tmp_path / "ix")}
    with pytest.raises(RuntimeError, match="OIDC_CLIENT_ID"):
        create_app({**base, "OIDC_ISSUER": "http://127.0.0.1:1"})
    with pytest.raises(RuntimeError, match="nobody could sign in"):
        create_app({**base, "LOCAL_LOGIN_ENABLED": False})
    with pytest.raises(RuntimeError, match="between 0 and 300"):
        create_app({**base, **oidc_settings("http://127.0.0.1:1"), "OIDC_CLOCK_SKEW_SECONDS": 3600})
    with pytest.raises(ValueError, match="not a role"):
        create_app({**base, **oidc_settings("http://127.0.0.1:1"), "OIDC_ROLE_GROUPS": "boss=grp-bosses"})


def test_role_mapping() -> None:
    mapping = oidc.parse_role_groups(" admin=a , curator=c,learner=l,learner=l2 ")
    assert mapping == {"a": Role.ADMIN, "c": Role.CURATOR, "l": Role.LEARNER, "l2": Role.LEARNER}
    assert oidc.role_for_groups(["l", "c", "x"], mapping) == Role.CURATOR
    assert oidc.role_for_groups(["l2"], mapping) == Role.LEARNER
    assert oidc.role_for_groups(["x"], mapping) is None and oidc.role_for_groups([], mapping) is None


# -- the ID token checks, with tokens signed by a key served here ----------------------------------
class _Issuer:
    """A tiny OpenID provider for signed test tokens: discovery and keys only."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "alg": "RS256", "use": "sig"})
        keys = {"keys": [self.key.as_dict(private=False)]}
        issuer_holder: dict[str, str] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer = issuer_holder["url"]
                documents = {
                    "/.well-known/openid-configuration": {
                        "issuer": issuer,
                        "authorization_endpoint": f"{issuer}/auth",
                        "token_endpoint": f"{issuer}/token",
                        "jwks_uri": f"{issuer}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                    "/jwks": keys,
                }
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = issuer_holder["url"] = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token(self, key: RSAKey | None = None, **changes: Any) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "sub": "someone", "iat": now, "exp": now + 300, "nonce": "n-1"}
        claims.update(changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key or self.key)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="module")
def signing_issuer() -> Iterator[_Issuer]:
    issuer = _Issuer()
    yield issuer
    issuer.close()


@pytest.fixture
def verifier(tmp_path: Path, migrated_db_template, signing_issuer: _Issuer) -> Iterator[Flask]:
    app = make_test_app(tmp_path, migrated_db_template, **oidc_settings(signing_issuer.url), OIDC_CLOCK_SKEW_SECONDS=60)
    with app_context_for(app), app.test_request_context("/login/sso/callback"):
        yield app


def _verify(id_token: str, nonce: str = "n-1") -> dict[str, Any]:
    return oidc.verify_id_token({"id_token": id_token, "token_type": "Bearer"}, nonce=nonce)


def test_a_good_token_passes(verifier: Flask, signing_issuer: _Issuer) -> None:
    assert _verify(signing_issuer.token())["sub"] == "someone"
    now = int(time.time())
    assert _verify(signing_issuer.token(exp=now - 30))["sub"] == "someone"  # within the clock skew


def _payload_changed(token: str) -> str:
    import base64

    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin"
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda i: _payload_changed(i.token()), id="tampered"),
        pytest.param(
            lambda i: i.token(key=RSAKey.generate_key(2048, parameters={"kid": "test-key"})), id="signed-by-another-key"
        ),
        pytest.param(lambda i: i.token(iss="http://127.0.0.1:1"), id="wrong-issuer"),
        pytest.param(lambda i: i.token(aud="another-client"), id="wrong-audience"),
        pytest.param(lambda i: i.token(aud="another-client", azp=CLIENT_ID), id="wrong-audience-right-azp"),
        pytest.param(lambda i: i.token(exp=int(time.time()) - 120), id="expired"),
        pytest.param(
            lambda i: i.token(iat=int(time.time()) + 600, exp=int(time.time()) + 900), id="issued-in-the-future"
        ),
        pytest.param(lambda i: i.token(exp=None), id="no-expiry"),
        pytest.param(lambda i: i.token(nonce="another-nonce"), id="wrong-nonce"),
        pytest.param(lambda i: i.token(nonce=None), id="no-nonce"),
        pytest.param(lambda i: ".".join(i.token().split(".")[:2]) + ".", id="no-signature"),
    ],
)
def test_a_bad_token_is_refused(verifier: Flask, signing_issuer: _Issuer, make) -> None:
    with pytest.raises(oidc.SingleSignOnError, match="could not be verified"):
        _verify(make(signing_issuer))


def test_an_unsigned_token_is_refused(verifier: Flask, signing_issuer: _Issuer) -> None:
    import base64

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": signing_issuer.url, "aud": CLIENT_ID, "sub": "x", "iat": now, "exp": now + 60, "nonce": "n-1"}
    with pytest.raises(oidc.SingleSignOnError):
        _verify(f"{part({'alg': 'none'})}.{part(claims)}.")
