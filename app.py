"""The application factory: `flask --app app ...` and `gunicorn 'app:create_app()'` find it."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from casestudies import cli, database, indexing, jobs, mail, notifications, policy
from casestudies.accounts import oidc, proxies, reset_views  # noqa: F401 - reset_views adds its routes
from casestudies.accounts import views as accounts_views
from casestudies.accounts.services import load_user
from casestudies.audit import views as audit_views
from casestudies.config import (
    check_production_config,
    default_config,
    environment_overrides,
    finalise,
    make_data_private,
    secret_key_for,
)
from casestudies.curation import tag_views
from casestudies.curation import views as curation_views
from casestudies.extensions import csrf, login_manager
from casestudies.guides import present_views  # noqa: F401 - adds the presenter view to guides_views.bp
from casestudies.guides import views as guides_views
from casestudies.insights import views as insights_views
from casestudies.jobs import views as jobs_views
from casestudies.learning import views as learning_views
from casestudies.learning.sealing import check_reflection_keys
from casestudies.library import views as library_views
from casestudies.notifications import views as notifications_views
from casestudies.params import IdConverter
from casestudies.reports import views as reports_views
from casestudies.searchadmin import views as searchadmin_views
from casestudies.transfer import views as transfer_views
from casestudies.web import init_web

ROOT = Path(__file__).resolve().parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("EVERY_SEAT_INSTANCE", str(ROOT / "instance")),
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    # nhsuk-frontend-jinja macros need ChainableUndefined; autoescape stays on for .html and .jinja.
    app.jinja_options = {
        "undefined": ChainableUndefined,
        "loader": ChoiceLoader([FileSystemLoader(str(ROOT / "templates")), PackageLoader("nhsuk_frontend_jinja")]),
        "autoescape": True,
    }
    app.url_map.converters["int"] = IdConverter  # ids beyond the database's range are a 404
    app.config.from_mapping(default_config(app.instance_path))
    app.config.update(environment_overrides(os.environ))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.update(test_config)
    finalise(app.config)
    secret_key_for(app, from_test=test_config is not None)
    check_production_config(app.config)
    check_reflection_keys(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind an HTTPS proxy: the client's address (for throttling) and scheme come
        # from the headers the trusted proxies add, and only from those.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if test_config is None:
        make_data_private(app)

    database.init_app(app)
    csrf.init_app(app)
    oidc.init_app(app)
    proxies.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to use the case library."
    login_manager.session_protection = "basic"
    policy.init_app(app)
    indexing.init_app(app)
    jobs.init_app(app)
    mail.init_app(app)
    notifications.init_app(app)
    for blueprint in (
        accounts_views.bp,
        accounts_views.account_bp,
        accounts_views.admin_bp,
        audit_views.bp,
        curation_views.bp,
        tag_views.bp,
        guides_views.bp,
        insights_views.bp,
        insights_views.privacy_bp,
        jobs_views.bp,
        learning_views.bp,
        library_views.bp,
        notifications_views.bp,
        reports_views.bp,
        searchadmin_views.bp,
        transfer_views.bp,
    ):
        app.register_blueprint(blueprint)
    init_web(app)
    cli.init_app(app)
    # No index work here: this server's indexer thread starts with the server
    # (gunicorn.conf.py, or here under `flask run`), builds a missing index and follows
    # the search journal; its job runner starts the same way.
    indexing.start_follower_under_flask_run(app)
    jobs.start_runner_under_flask_run(app)
    return app
