"""/insights: the curators' Search gaps and Library use pages, their CSV downloads and
the actions taken from a gap; a reader's "Was this case useful?"; the privacy notice."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from casestudies.database import discard_changes
from casestudies.forms import CsrfOnlyForm
from casestudies.insights import actions, charts
from casestudies.insights.export import csv_response
from casestudies.insights.gaps import find_gap
from casestudies.insights.periods import PERIOD_DAYS, Period
from casestudies.insights.recording import MAX_TEXT, query_key, today
from casestudies.insights.tables import Table, download_table, page_tables
from casestudies.insights.usefulness import FeedbackInput, record_feedback, seat_choices
from casestudies.library.services import get_case_for_viewer
from casestudies.models import Role
from casestudies.params import safe_local_target
from casestudies.policy import public, requires

bp = Blueprint("insights", __name__, url_prefix="/insights")


def _period() -> Period:
    return Period.last(request.args.get("days", ""), today())


def _csv(page: str, filename: str) -> ResponseReturnValue:
    period = _period()
    table = download_table(page, request.args.get("table", ""), period, today())
    if table is None:
        abort(404)
    return csv_response(f"{filename}-{table.name}-{period.days}-days.csv", table.header, table.rows)


@bp.get("/gaps")
@requires(Role.CURATOR)
def gaps() -> str:
    period = _period()
    tables = page_tables("gaps", period, today())
    figures = {
        "gaps": charts.bar_chart("Top search gaps", "searches", [(r[0], r[1]) for r in tables["gaps"].rows]),
        "missing": charts.bar_chart("Missing words", "searches", [(r[0], r[1]) for r in tables["missing"].rows]),
        "per-day": charts.column_chart("Searches per day", "searches", [(r[0], r[1]) for r in tables["per-day"].rows]),
    }
    return render_template(
        "insights/gaps.html",
        period=period,
        periods=PERIOD_DAYS,
        tables=tables,
        figures=figures,
        gap_link=_gap_link,
        wanted=actions.wanted_list(),
        terms=actions.all_terms(),
        csrf_form=CsrfOnlyForm(),
    )


@bp.get("/gaps.csv")
@requires(Role.CURATOR)
def gaps_csv() -> ResponseReturnValue:
    return _csv("gaps", "search-gaps")


def _gap_link(row: tuple) -> str:
    return url_for("insights.gap", q=row[0])


def _case_links(table: Table):
    slugs = table.slugs
    return lambda row, index: url_for("library.case", slug=slugs[index]) if index < len(slugs) else ""


@bp.get("/use")
@requires(Role.CURATOR)
def library_use() -> str:
    period = _period()
    tables = page_tables("use", period, today())
    figures = {
        "most-read": charts.bar_chart("Most read cases", "reads", [(r[0], r[1]) for r in tables["most-read"].rows]),
        "useful": charts.bar_chart("Answers “useful”", "answers yes", [(r[0], r[1]) for r in tables["useful"].rows]),
        "per-day": charts.column_chart("Searches per day", "searches", [(r[0], r[1]) for r in tables["per-day"].rows]),
    }
    return render_template("insights/use.html", period=period, periods=PERIOD_DAYS, tables=tables, figures=figures)


@bp.get("/use.csv")
@requires(Role.CURATOR)
def use_csv() -> ResponseReturnValue:
    return _csv("use", "library-use")


def _gap_text() -> str:
    text = " ".join(request.values.get("q", "").split())[:MAX_TEXT]
    if not text:
        abort(404)
    return text


def _gap_page(text: str, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status=200):
    return (
        render_template(
            "insights/gap.html",
            q=text,
            gap=find_gap(query_key(text)),
            done=actions.gap_actions(text),
            errors=errors or {},
            values=values or {},
            csrf_form=CsrfOnlyForm(),
        ),
        status,
    )


@bp.get("/gap")
@requires(Role.CURATOR)
def gap() -> ResponseReturnValue:
    return _gap_page(_gap_text())


def _act(field: str, action) -> ResponseReturnValue:
    """Run a gap action from its form: back to the gap page, with its message or error."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    text = _gap_text()
    try:
        message = action(text)
    except actions.ActionRefused as refusal:
        discard_changes()
        return _gap_page(text, {field: str(refusal)}, dict(request.form), 400)
    flash(message)
    return redirect(url_for("insights.gap", q=text))


@bp.post("/gap/synonym")
@requires(Role.CURATOR)
def add_synonym() -> ResponseReturnValue:
    def act(text: str) -> str:
        term = actions.add_synonym(current_user, text, request.form.get("expressions", "")[:2000].splitlines())
        return f"Synonyms added: {term.text}. Searches use them from now on."

    return _act("expressions", act)


@bp.post("/gap/concept")
@requires(Role.CURATOR)
def add_concept() -> ResponseReturnValue:
    def act(text: str) -> str:
        form = {name: request.form.get(name, "")[:1000] for name in ("preferred", "synonyms", "narrower", "related")}
        term = actions.add_concept(current_user, text, **form)
        return f"Concept added: {term.text.splitlines()[0].removeprefix('concept: ')}. Searches use it from now on."

    return _act("preferred", act)


@bp.post("/gap/promote")
@requires(Role.CURATOR)
def promote() -> ResponseReturnValue:
    def act(text: str) -> str:
        promotion = actions.promote(current_user, text, request.form.get("slug", "")[:200])
        return f"“{promotion.case.title}” is now recommended to readers who search for “{text}”."

    return _act("slug", act)


@bp.post("/gap/wanted")
@requires(Role.CURATOR)
def add_wanted() -> ResponseReturnValue:
    def act(text: str) -> str:
        actions.add_wanted(current_user, text, request.form.get("note", "")[:2000])
        return f"“{text}” is on the wanted cases list."

    return _act("note", act)


@bp.post("/undo/<kind>/<int:item_id>")
@requires(Role.CURATOR)
def undo(kind: str, item_id: int) -> ResponseReturnValue:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    label = actions.undo(current_user, kind, item_id)
    flash(f"Undone: {label}.")
    target = safe_local_target(request.form.get("next"))
    return redirect(target or url_for("insights.gaps"))


@bp.post("/feedback/<slug>")
@requires(Role.LEARNER)
def feedback(slug: str) -> ResponseReturnValue:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    case = get_case_for_viewer(slug, current_user)
    data = FeedbackInput(
        request.form.get("useful", "")[:5], request.form.get("comment", "")[:5000], request.form.get("seat", "")[:200]
    )
    errors = record_feedback(current_user, case, data)
    if errors:
        page = render_template(
            "insights/feedback.html", case=case, errors=errors, data=data, feedback_seats=seat_choices()
        )
        return page, 400
    flash("Thank you: your answer helps the library team.")
    return redirect(url_for("library.case", slug=slug, _anchor="was-it-useful"))


privacy_bp = Blueprint("privacy", __name__)


@privacy_bp.get("/privacy")
@public
def privacy() -> str:
    return render_template("privacy/notice.html")
