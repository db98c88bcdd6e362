"""A warning for a production server behind a proxy it has not been told about.

With TRUSTED_PROXIES at 0, X-Forwarded-For is ignored (anyone could send it), so every
request seems to come from the proxy's own address: the per-address sign-in limit then
counts the whole organisation as one client (see SECURITY.md). The app can't know at start
-up whether a proxy is in front of it, so it says so at the first request that shows one."""

from __future__ import annotations

from flask import Flask, request

WARNING = (
    "Requests carry X-Forwarded-For but TRUSTED_PROXIES is 0: every client seems to come from "
    "%s, so sign-in throttling per address counts them all as one. Set TRUSTED_PROXIES to the "
    "number of proxies in front of the app (SECURITY.md)."
)


def init_app(app: Flask) -> None:
    if app.config["EVERY_SEAT_ENV"] != "production" or int(app.config["TRUSTED_PROXIES"]):
        return
    warned = False

    @app.before_request
    def _warn_about_untrusted_proxy() -> None:
        nonlocal warned
        if not warned and "X-Forwarded-For" in request.headers:
            warned = True
            app.logger.warning(WARNING, request.remote_addr or "one address")
