"""Admins: /admin/search lists each server's indexer (as `flask search-status` does)."""

from __future__ import annotations

from flask import Blueprint, render_template

from casestudies.indexing import search_status
from casestudies.models import Role
from casestudies.policy import requires

bp = Blueprint("searchadmin", __name__)


@bp.get("/admin/search")
@requires(Role.ADMIN)
def status():
    newest, nodes = search_status()
    return render_template("searchadmin/status.html", newest=newest, nodes=nodes)
