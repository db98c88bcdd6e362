"""A real OpenID provider for the suite (tests/oidc/provider.mjs, oidc-provider from npm),
started once per test session with Node, and an app set up to use it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import ROOT, _free_port

PROVIDER_SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
CLIENT_ID = "every-seat-test"
CLIENT_SECRET = "every-seat-test-secret-that-is-long-enough"
ROLE_GROUPS = "admin=grp-admins,curator=grp-curators,facilitator=grp-facilitators,learner=grp-staff"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The issuer URL of a running oidc-provider; stopped at the end of the session."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the OpenID provider the tests start"
    port = _free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with open(log, "w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT), str(port)], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as response:
                    assert json.load(response)["issuer"] == issuer
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the OpenID test provider did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        process.wait(10)


def oidc_settings(issuer: str, **overrides: Any) -> dict[str, Any]:
    return {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_ROLE_GROUPS": ROLE_GROUPS,
        **overrides,
    }
