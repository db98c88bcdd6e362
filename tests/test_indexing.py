"""The search index follows the database: after commit, never before, and nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from casestudies.curation.revisions import save_case_data
from casestudies.extensions import db
from casestudies.indexing import check_index, drain_outbox, ensure_index, get_search_index, rebuild_index
from casestudies.models import Case, SearchOutbox, Tag
from search import SearchRequest

from .conftest import case_data, ensure_user


def _search_ids(text: str, statuses=("draft", "review", "published")) -> list[int]:  # type: ignore[no-untyped-def]
    request = SearchRequest(text, statuses=statuses, exact=True)
    return [hit.id for hit in get_search_index().search(request).hits]


def test_a_committed_case_is_searchable_at_once(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case(body="The zanzibarish lounge.\n")
    assert _search_ids("zanzibarish") == [case.id]
    assert check_index().is_clean


def test_a_rolled_back_edit_leaves_no_trace(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    case.title = "Quokkafied title"
    db.session.flush()  # flushed (outbox row written) but never committed
    db.session.rollback()
    assert _search_ids("quokkafied") == []
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    assert check_index().is_clean


def test_a_crash_between_commit_and_index_write_is_replayed_at_start_up(app: Flask, make_case, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    index = get_search_index()

    def crash(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OSError("simulated crash before the index write")

    monkeypatch.setattr(index, "writing", crash)
    case.title = "Wombatish new title"
    db.session.commit()  # the request succeeds although the index write failed
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
    monkeypatch.undo()
    assert _search_ids("wombatish") == []
    assert not check_index().is_clean
    ensure_index(app)  # what create_app() does at start-up
    assert _search_ids("wombatish") == [case.id]
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    assert check_index().is_clean


def test_renaming_a_tag_reindexes_the_cases_that_carry_it(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    first = make_case(slug="one", tags=("flow",))
    second = make_case(slug="two", tags=("flow", "other"))
    make_case(slug="three", tags=("unrelated",))
    tag = db.session.scalar(select(Tag).where(Tag.key == "flow"))
    tag.name, tag.key = "patient flowmeter", "patient flowmeter"
    db.session.commit()
    assert sorted(_search_ids("flowmeter")) == sorted([first.id, second.id])
    assert check_index().is_clean


def test_editing_a_question_reindexes_its_case(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    case.questions[0].text = "What would a narwhalesque leader do?"
    db.session.commit()
    assert _search_ids("narwhalesque") == [case.id]


def test_a_deleted_case_leaves_the_index(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case(body="Capybarine words.\n")
    db.session.delete(case)
    db.session.commit()
    assert _search_ids("capybarine") == []
    assert check_index().is_clean


def test_search_check_finds_missing_stale_and_extra(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    kept, stale, gone = (make_case(slug=slug).id for slug in ("kept", "stale", "gone"))
    index = get_search_index()
    with index.writing() as batch:
        batch.delete(kept)
    db.session.execute(Case.__table__.update().where(Case.id == stale).values(title="Changed behind the index"))
    db.session.execute(Case.__table__.delete().where(Case.id == gone))
    db.session.commit()
    report = check_index()
    assert (report.missing, report.stale, report.extra) == ([kept], [stale], [gone])
    rebuild_index()
    assert check_index().is_clean


def test_reindex_swaps_in_a_new_generation_and_searches_keep_working(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case(body="Platypodal words.\n")
    index = get_search_index()
    assert _search_ids("platypodal") == [case.id]
    before = (Path(app.config["SEARCH_INDEX_DIR"]) / "CURRENT").read_text()
    assert rebuild_index() == 1
    after = (Path(app.config["SEARCH_INDEX_DIR"]) / "CURRENT").read_text()
    assert before != after
    assert _search_ids("platypodal") == [case.id]
    assert index.doc_count() == 1


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_a_missing_or_damaged_index_is_rebuilt_at_start_up(app: Flask, make_case, damage: str, caplog) -> None:  # type: ignore[no-untyped-def]
    import shutil

    case = make_case(body="Axolotlian words.\n")
    index = get_search_index()
    index.close()
    directory = Path(app.config["SEARCH_INDEX_DIR"])
    if damage == "delete":
        shutil.rmtree(directory)
    else:
        generation = directory / (directory / "CURRENT").read_text().strip()
        for path in generation.iterdir():
            path.write_bytes(b"garbage")
    ensure_index(app)
    assert "rebuilding it from the database" in caplog.text
    assert _search_ids("axolotlian") == [case.id]
    assert check_index().is_clean


def test_two_processes_editing_at_once_lose_nothing(app: Flask, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two real processes save edits concurrently; every edit reaches the index."""
    import subprocess
    import sys
    import textwrap

    ids = [make_case(slug=f"case-{i}", title=f"Case {i}").id for i in range(2)]
    script = textwrap.dedent(
        f"""
        import sys
        from app import create_app
        from casestudies.extensions import db
        from casestudies.models import Case
        app = create_app({{"TESTING": True, "DATABASE_URL": {app.config["DATABASE_URL"]!r},
                          "SEARCH_INDEX_DIR": {app.config["SEARCH_INDEX_DIR"]!r}, "SECRET_KEY": "x"}})
        case_id, word = int(sys.argv[1]), sys.argv[2]
        with app.app_context():
            for n in range(15):
                case = db.session.get(Case, case_id)
                case.title = f"{{word}}{{n}} edit"
                db.session.commit()
        """
    )
    root = Path(__file__).resolve().parent.parent
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(case_id), word], cwd=root)
        for case_id, word in zip(ids, ["alphaedit", "betaedit"], strict=True)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    db.session.expire_all()
    assert _search_ids("alphaedit14") == [ids[0]]
    assert _search_ids("betaedit14") == [ids[1]]
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    assert check_index().is_clean


def test_drain_is_a_no_op_when_nothing_is_queued(app: Flask) -> None:
    ensure_user("learner")
    assert drain_outbox(app) == 0


def test_a_large_drain_is_written_in_batches_and_a_crash_between_them_loses_nothing(  # type: ignore[no-untyped-def]
    app: Flask, make_case, monkeypatch
) -> None:
    """An import queues thousands of cases; the index takes them MAX_BATCH_DOCS at a time
    (one commit each). Dying after some batches leaves every row queued for the replay."""
    import casestudies.indexing as indexing

    index = get_search_index()
    monkeypatch.setattr(indexing, "MAX_BATCH_DOCS", 3)
    real_writing = index.writing
    batches: list[int] = []

    def failing_third_batch(expected: int = 1):  # type: ignore[no-untyped-def]
        batches.append(expected)
        if len(batches) == 3:
            raise OSError("simulated crash in the third batch")
        return real_writing(expected)

    monkeypatch.setattr(index, "writing", failing_third_batch)
    cases = [save_case_data(case_data(slug=f"batch-{n}", body="Okapiform notes.\n"), actor=None)[0] for n in range(8)]
    db.session.commit()  # one transaction, as an import is
    assert batches == [3, 3, 2][: len(batches)] and len(batches) == 3
    assert len(_search_ids("okapiform")) == 6  # two batches landed
    queued = db.session.scalars(select(SearchOutbox.case_id).distinct())
    assert sorted(queued) == sorted(case.id for case in cases)  # every case still queued
    monkeypatch.setattr(index, "writing", real_writing)
    ensure_index(app)
    assert sorted(_search_ids("okapiform")) == sorted(case.id for case in cases)
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    assert check_index().is_clean
