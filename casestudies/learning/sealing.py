"""Encryption at rest for the reflection notebook: Fernet (AES-128-CBC and HMAC-SHA256),
several keys through MultiFernet so that keys can be rotated.

The keys come from REFLECTION_KEYS (comma-separated, newest first: the newest encrypts,
every one decrypts); without it, from `instance/reflection-keys`, which is generated, mode
0600, the first time a key is needed (`make run` does that before serving). A production
server with neither refuses to read or write a notebook rather than make a key of its own
that its peers would not know.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

from ..config import instance_secret_file

KEY_FILE_NAME = "reflection-keys"
_lock = threading.Lock()


class SealingError(RuntimeError):
    """No key, or a sealed value that none of the keys opens."""


def reflection_key_file(app: Flask) -> Path:
    return Path(app.instance_path) / KEY_FILE_NAME


def _split_keys(text: str) -> list[str]:
    return [key.strip() for key in text.replace("\n", ",").split(",") if key.strip()]


def write_reflection_key_file(path: Path, keys: list[str]) -> None:
    """Write the keys (newest first) to a new file readable by its owner only, then move it
    into place, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write("\n".join(keys) + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def instance_reflection_keys(app: Flask, *, create: bool = True) -> list[str]:
    """The keys in instance/reflection-keys, generating a first key (file mode 0600) when
    the file does not exist and `create` is set. Two processes starting together agree on
    one key (config.instance_secret_file, as SECRET_KEY's file)."""
    path = reflection_key_file(app)
    if not path.exists() and create:
        instance_secret_file(app, KEY_FILE_NAME, new_key)
    if not path.exists():
        return []
    return _split_keys(path.read_text("ascii"))


def configured_keys(app: Flask) -> tuple[list[str], str]:
    """(keys newest first, where they come from: "environment" or "file")."""
    from_config = app.config.get("REFLECTION_KEYS") or ""
    if from_config:
        return _split_keys(str(from_config)), "environment"
    production = app.config.get("EVERY_SEAT_ENV") == "production"
    return instance_reflection_keys(app, create=not production), "file"


def _cipher(app: Flask) -> MultiFernet:
    with _lock:
        cached = app.extensions.get("reflection_cipher")
        if cached is None:
            keys, _ = configured_keys(app)
            if not keys:
                raise SealingError("No reflection key: set REFLECTION_KEYS (see README, My learning).")
            try:
                cached = MultiFernet([Fernet(key.encode("ascii")) for key in keys])
            except (ValueError, UnicodeEncodeError) as exc:
                raise SealingError("REFLECTION_KEYS holds a value that is not a Fernet key.") from exc
            app.extensions["reflection_cipher"] = cached
        return cached


def forget_cipher(app: Flask) -> None:
    """After the keys change (rotation): the next use reads them again."""
    with _lock:
        app.extensions.pop("reflection_cipher", None)


def seal(values: dict[str, Any]) -> str:
    return _cipher(current_app).encrypt(json.dumps(values, ensure_ascii=False).encode("utf-8")).decode("ascii")


def unseal(token: str) -> dict[str, Any]:
    try:
        return dict(json.loads(_cipher(current_app).decrypt(token.encode("ascii"))))
    except InvalidToken as exc:
        raise SealingError("A notebook entry could not be decrypted with the configured keys.") from exc


def reseal(token: str, cipher: MultiFernet) -> str:
    """The same value encrypted under the cipher's newest key."""
    return cipher.rotate(token.encode("ascii")).decode("ascii")


def cipher_for(keys: list[str]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def check_reflection_keys(app: Flask) -> None:
    """At start-up: keys that are not Fernet keys stop the app, and so does production
    without keys (a server making its own would write notebooks its peers cannot read)."""
    from_config = str(app.config.get("REFLECTION_KEYS") or "")
    if from_config:
        try:
            cipher_for(_split_keys(from_config))
        except (ValueError, UnicodeEncodeError) as exc:
            raise RuntimeError("REFLECTION_KEYS holds a value that is not a Fernet key.") from exc
    elif app.config.get("EVERY_SEAT_ENV") == "production" and not reflection_key_file(app).exists():
        raise RuntimeError(
            "Refusing to start in production without REFLECTION_KEYS (or instance/reflection-keys): "
            "the reflection notebook is stored encrypted with them."
        )
