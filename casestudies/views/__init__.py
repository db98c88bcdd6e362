"""Blueprints: thin views that parse the request, call a service and render."""

from flask import Flask

from . import admin, auth, curate, guides, library, tags, transfer


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(auth.bp)
    app.register_blueprint(library.bp)
    app.register_blueprint(curate.bp)
    app.register_blueprint(guides.bp)
    app.register_blueprint(tags.bp)
    app.register_blueprint(transfer.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin.account_bp)
