"""Single sign-on with OpenID Connect (Authlib): the authorisation code flow with PKCE (S256),
`state` and `nonce` checked, the ID token's signature, issuer, audience and expiry verified
with a bounded clock skew. The provider's discovery document and keys are fetched on first
use and kept (the keys are fetched again when a token names a key not yet seen, and both
after METADATA_MAX_AGE).

Accounts are matched by (issuer, subject), created at first sign-in with no local password,
and take the role their groups map to at every sign-in: the highest mapped role wins; no
mapped group means no access, and no account is created. The name and email address follow
the provider's at every sign-in. An email address is used (to create, link or update an
account) only when the provider says it is verified (`email_verified`; OIDC_REQUIRE_VERIFIED_EMAIL
off trusts providers that never send it), and never when it only looks like another
account's (accounts/emails.py)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, session
from flask.wrappers import Response
from joserfc.errors import JoseError
from sqlalchemy import func, select

from casestudies.accounts import sessions
from casestudies.accounts.demotion import end_shares_beyond_role
from casestudies.accounts.emails import lookalike_message, lookalike_of
from casestudies.audit import services as audit
from casestudies.extensions import db
from casestudies.models import Role, User

CLIENT_NAME = "organisation"
SCOPES = "openid email profile"
METADATA_MAX_AGE = 24 * 3600  # seconds
MAX_CLOCK_SKEW = 300  # seconds: a larger setting is refused at start-up
SETTINGS_KEY = "every_seat_oidc"


class SingleSignOnError(Exception):
    """The sign-in could not be completed or verified; the message is for the user."""


class NoAccess(Exception):
    """The provider vouched for the person, but they may not use the library."""


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    groups_claim: str
    role_groups: dict[str, Role]  # group name -> role
    clock_skew: int


def parse_role_groups(spec: str) -> dict[str, Role]:
    """ "admin=grp-admins,curator=grp-curators,learner=grp-staff" -> {group: role}. A role may
    be named several times (several groups give it); a group gets one role only."""
    mapping: dict[str, Role] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        role_name, sep, group = item.partition("=")
        try:
            role = Role(role_name.strip().lower())
        except ValueError:
            raise ValueError(
                f"OIDC_ROLE_GROUPS: {role_name.strip()!r} is not a role ({', '.join(r.value for r in Role)})"
            ) from None
        if not sep or not group.strip():
            raise ValueError(f"OIDC_ROLE_GROUPS: {item.strip()!r} should be role=group")
        if group.strip() in mapping and mapping[group.strip()] != role:
            raise ValueError(f"OIDC_ROLE_GROUPS: the group {group.strip()!r} is given two roles")
        mapping[group.strip()] = role
    return mapping


def role_for_groups(groups: Iterable[str], role_groups: dict[str, Role]) -> Role | None:
    """The highest role any of the groups maps to, or None."""
    roles = [role_groups[group] for group in groups if group in role_groups]
    return max(roles, key=lambda role: role.rank) if roles else None


def init_app(app: Flask) -> None:
    """Register the provider when OIDC_ISSUER is set; check the settings at start-up."""
    if not app.config.get("LOCAL_LOGIN_ENABLED") and not app.config.get("OIDC_ISSUER"):
        raise RuntimeError("Local sign-in is switched off and no OIDC_ISSUER is set: nobody could sign in.")
    issuer = (app.config.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        return
    missing = [
        name for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ROLE_GROUPS") if not app.config.get(name)
    ]
    if missing:
        raise RuntimeError(f"Single sign-on needs {', '.join(missing)} as well as OIDC_ISSUER.")
    skew = int(app.config.get("OIDC_CLOCK_SKEW_SECONDS", 60))
    if not 0 <= skew <= MAX_CLOCK_SKEW:
        raise RuntimeError(f"OIDC_CLOCK_SKEW_SECONDS must be between 0 and {MAX_CLOCK_SKEW}.")
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions[SETTINGS_KEY] = Settings(
        issuer=issuer,
        client_id=app.config["OIDC_CLIENT_ID"],
        groups_claim=app.config.get("OIDC_GROUPS_CLAIM") or "groups",
        role_groups=parse_role_groups(app.config["OIDC_ROLE_GROUPS"]),
        clock_skew=skew,
    )


def is_enabled() -> bool:
    return SETTINGS_KEY in current_app.extensions


def configured_issuer() -> str:
    return _settings().issuer


def _settings() -> Settings:
    return current_app.extensions[SETTINGS_KEY]


def _client() -> Any:
    client = current_app.extensions["authlib.integrations.flask_client"].create_client(CLIENT_NAME)
    loaded_at = client.server_metadata.get("_loaded_at")
    if loaded_at is not None and time.time() - loaded_at > METADATA_MAX_AGE:
        client.server_metadata.pop("_loaded_at", None)  # fetched again on next use, keys too
        client.server_metadata.pop("jwks", None)
    return client


def _metadata(client: Any) -> dict[str, Any]:
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SingleSignOnError(
            "Your organisation’s sign-in service can’t be reached just now. Try again later."
        ) from exc
    if str(metadata.get("issuer", "")).rstrip("/") != _settings().issuer:
        raise SingleSignOnError("Your organisation’s sign-in service is not the one this site is set up for.")
    return metadata


def begin(redirect_uri: str) -> Response:
    """Send the browser to the provider. Authlib keeps the state, the nonce and the PKCE
    verifier in the session until the provider sends the browser back."""
    client = _client()
    _metadata(client)
    try:
        return client.authorize_redirect(redirect_uri)
    except requests.RequestException as exc:
        raise SingleSignOnError("Your organisation’s sign-in service can’t be reached just now.") from exc


def claims_options() -> dict[str, Any]:
    settings = _settings()
    return {
        "iss": {"essential": True, "value": settings.issuer},
        "aud": {"essential": True, "value": settings.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }


def verify_id_token(token: dict[str, Any], nonce: str) -> dict[str, Any]:
    """The ID token's claims, once its signature (the provider's published keys), issuer,
    audience, expiry (within the allowed clock skew) and nonce have been checked."""
    client = _client()
    _metadata(client)
    if not token.get("id_token"):
        raise SingleSignOnError("Your organisation’s sign-in service sent no identity token.")
    try:
        claims = client.parse_id_token(
            token, nonce=nonce, claims_options=claims_options(), leeway=_settings().clock_skew
        )
    except (JoseError, ValueError, KeyError, requests.RequestException) as exc:
        current_app.logger.warning("single sign-on: ID token refused: %r", exc)
        raise SingleSignOnError("Your organisation’s sign-in could not be verified. Try again.") from exc
    if claims is None:
        raise SingleSignOnError("Your organisation’s sign-in service sent no identity token.")
    return dict(claims)


def finish(args: dict[str, str]) -> dict[str, Any]:
    """The provider sent the browser back with `args`: check the state (known to this
    session, used once), exchange the code (with the PKCE verifier) and verify the ID token."""
    client = _client()
    state = args.get("state") or ""
    data = client.framework.get_state_data(session, state) if state else None
    if not data:
        raise SingleSignOnError("That sign-in link had expired or was already used. Start again.")
    client.framework.clear_state_data(session, state)
    if args.get("error"):
        raise SingleSignOnError("Your organisation’s sign-in service did not sign you in. Start again.")
    if not args.get("code"):
        raise SingleSignOnError("Your organisation’s sign-in service sent no sign-in code. Start again.")
    try:
        token = client.fetch_access_token(
            redirect_uri=data["redirect_uri"], code=args["code"], code_verifier=data["code_verifier"]
        )
    except (OAuthError, requests.RequestException, ValueError) as exc:
        current_app.logger.warning("single sign-on: code exchange refused: %r", exc)
        raise SingleSignOnError("Your organisation’s sign-in could not be completed. Start again.") from exc
    return verify_id_token(token, nonce=data["nonce"])


def _groups(claims: dict[str, Any]) -> list[str]:
    value = claims.get(_settings().groups_claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def account_for(claims: dict[str, Any]) -> User:
    """The account of the person the verified claims name: created at first sign-in, its
    role following the group mapping at every sign-in."""
    issuer, subject = str(claims["iss"]).rstrip("/"), str(claims["sub"])
    role = role_for_groups(_groups(claims), _settings().role_groups)
    user = db.session.scalar(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject))
    label = f"{claims.get('name') or claims.get('email') or subject} <{claims.get('email') or subject}>"
    if role is None:
        audit.record(
            user,
            "sign-in-refused",
            actor_label=None if user else f"single sign-on: {label}"[:300],
            detail=f"Single sign-on refused for {label}: none of their groups gives access",
        )
        if user is not None:
            sessions.end_all_sessions(user)  # out of every mapped group: signed out everywhere too
        raise NoAccess("Your organisation account is not in a group that gives access to the case library.")
    if user is None:
        return _create_account(claims, issuer, subject, role, label)
    if not user.is_active:
        audit.record(user, "sign-in-refused", detail=f"Single sign-on refused for {label}: the account is deactivated")
        raise NoAccess("Your account here has been deactivated. Ask an administrator if you need access.")
    _follow_details(user, claims)
    if user.role != role:
        audit.record(
            user,
            "user-role",
            detail=f"{user.name} <{user.email}>: {user.role.value} → {role.value} (organisation groups)",
        )
        user.role = role
        end_shares_beyond_role(user, None)
    return user


def _email_is_verified(claims: dict[str, Any]) -> bool:
    if not current_app.config.get("OIDC_REQUIRE_VERIFIED_EMAIL", True):
        return True
    verified = claims.get("email_verified")
    return verified is True or (isinstance(verified, str) and verified.lower() == "true")


def _claimed_name(claims: dict[str, Any], email: str) -> str:
    return " ".join(str(claims.get("name") or email.split("@")[0]).split())[:120]


def _follow_details(user: User, claims: dict[str, Any]) -> None:
    """The account's name and email address follow the provider's, recorded when changed.
    A new address is taken only when verified, free and not a look-alike of another's."""
    name = _claimed_name(claims, user.email)
    email = str(claims.get("email") or "").strip().lower()
    before = f"{user.name} <{user.email}>"
    changes = []
    if name and name != user.name:
        changes.append(f"name “{user.name}” → “{name}”")
        user.name = name
    if email and email != user.email and "@" in email and len(email) <= 254 and _email_is_verified(claims):
        taken = db.session.scalar(select(User).where(func.lower(User.email) == email, User.id != user.id))
        if taken is None and lookalike_of(email, exclude=user) is None:
            changes.append(f"email “{user.email}” → “{email}”")
            user.email = email
    if changes:
        audit.record(user, "user-details", detail=f"{before}: {'; '.join(changes)} (from the organisation account)")


def _create_account(claims: dict[str, Any], issuer: str, subject: str, role: Role, label: str) -> User:
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise SingleSignOnError("Your organisation account has no email address, which this site needs.")

    def refuse(why: str, message: str) -> NoAccess:
        audit.record(
            None,
            "sign-in-refused",
            actor_label=f"single sign-on: {label}"[:300],
            detail=f"Single sign-on refused for {label}: {why}",
        )
        return NoAccess(message)

    if not _email_is_verified(claims):
        raise refuse(
            "the organisation account's email address is not verified",
            "Your organisation account’s email address has not been verified, so no account can be "
            "made for it here. Ask your organisation’s IT service desk, or an administrator.",
        )
    existing = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if existing is not None and existing.oidc_issuer == issuer and existing.oidc_subject is None:
        # An admin turned this account into a single sign-on one: link it now.
        existing.oidc_subject = subject
        audit.record(
            existing, "user-sign-in-method", detail=f"{existing.name} <{email}> linked to their organisation account"
        )
        if not existing.is_active:
            raise NoAccess("Your account here has been deactivated. Ask an administrator if you need access.")
        if existing.role != role:
            audit.record(
                existing,
                "user-role",
                detail=f"{existing.name} <{email}>: {existing.role.value} → {role.value} (organisation groups)",
            )
            existing.role = role
            end_shares_beyond_role(existing, None)
        _follow_details(existing, claims)
        return existing
    if existing is not None:
        raise refuse(
            f"an account with a password already uses {email}",
            f"An account that signs in with a password already uses {email}. "
            "Sign in with your password, or ask an administrator.",
        )
    if lookalike_of(email) is not None:
        raise refuse(f"{email} only looks like an existing account's address", lookalike_message(email))
    name = _claimed_name(claims, email)
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash="",  # no local password
        is_active=True,
        oidc_issuer=issuer,
        oidc_subject=subject,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        None, "user-create", detail=f"Created the account {name} <{email}> as {role.value} at first single sign-on"
    )
    return user


def complete_sign_in(args: dict[str, str]) -> User:
    """The callback's one service: finish the flow and return the account to sign in."""
    return account_for(finish(args))
