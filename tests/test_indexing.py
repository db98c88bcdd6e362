"""The search index follows the database: after commit, never before, and nothing lost.

Changes reach the index through the journal and this server's indexer; `catch_up(app)`
runs the indexer's own pass (see also test_search_journal.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.indexing import catch_up, check_index, ensure_index, get_follower, get_search_index, rebuild_index
from casestudies.models import Case, SearchJournal, Tag
from search import SearchRequest

from .conftest import case_data, ensure_user


def _search_ids(text: str, statuses=("draft", "review", "published")) -> list[int]:
    request = SearchRequest(text, statuses=statuses, exact=True)
    return [hit.id for hit in get_search_index().search(request).hits]


def test_a_committed_case_is_searchable_once_the_indexer_has_passed(app: Flask) -> None:
    case, _ = save_case_data(case_data(body="The zanzibarish lounge.\n"), actor=None)
    db.session.commit()
    # The commit wrote a journal entry and no index: no request writes the index.
    assert _search_ids("zanzibarish") == []
    entries = db.session.execute(select(SearchJournal.case_id, SearchJournal.is_removed)).all()
    assert [tuple(e) for e in entries] == [(case.id, False)]
    catch_up(app)
    assert _search_ids("zanzibarish") == [case.id]
    assert check_index().is_clean


def test_a_rolled_back_edit_leaves_no_trace(app: Flask, make_case) -> None:
    case = make_case()
    journaled = db.session.scalar(select(func.count()).select_from(SearchJournal))
    case.title = "Quokkafied title"
    db.session.flush()  # flushed (journal row written) but never committed
    db.session.rollback()
    catch_up(app)
    assert _search_ids("quokkafied") == []
    assert db.session.scalar(select(func.count()).select_from(SearchJournal)) == journaled
    assert check_index().is_clean


def test_a_failed_index_write_is_retried_from_the_cursor(app: Flask, make_case, monkeypatch) -> None:
    case = make_case()
    index = get_search_index()

    def crash(*_args, **_kwargs):
        raise OSError("simulated failure of the index write")

    monkeypatch.setattr(index, "writing", crash)
    case.title = "Wombatish new title"
    db.session.commit()  # the edit is committed; the index write fails later, in the indexer
    with pytest.raises(OSError):
        catch_up(app)
    monkeypatch.undo()
    assert _search_ids("wombatish") == []
    assert not check_index().is_clean
    catch_up(app)  # the next pass starts again from the stored cursor
    assert _search_ids("wombatish") == [case.id]
    assert check_index().is_clean


def test_renaming_a_tag_reindexes_the_cases_that_carry_it(app: Flask, make_case) -> None:
    first = make_case(slug="one", tags=("flow",))
    second = make_case(slug="two", tags=("flow", "other"))
    make_case(slug="three", tags=("unrelated",))
    tag = db.session.scalar(select(Tag).where(Tag.key == "flow"))
    tag.name, tag.key = "patient flowmeter", "patient flowmeter"
    db.session.commit()
    catch_up(app)
    assert sorted(_search_ids("flowmeter")) == sorted([first.id, second.id])
    assert check_index().is_clean


def test_editing_a_question_reindexes_its_case(app: Flask, make_case) -> None:
    case = make_case()
    case.questions[0].text = "What would a narwhalesque leader do?"
    db.session.commit()
    catch_up(app)
    assert _search_ids("narwhalesque") == [case.id]


def test_a_deleted_case_leaves_the_index(app: Flask, make_case) -> None:
    case = make_case(body="Capybarine words.\n")
    db.session.delete(case)
    db.session.commit()
    assert db.session.scalars(select(SearchJournal.is_removed).order_by(SearchJournal.id.desc())).first() is True
    catch_up(app)
    assert _search_ids("capybarine") == []
    assert check_index().is_clean


def test_search_check_finds_missing_stale_and_extra(app: Flask, make_case) -> None:
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


def test_reindex_swaps_in_a_new_generation_and_searches_keep_working(app: Flask, make_case) -> None:
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
def test_a_missing_or_damaged_index_is_rebuilt_at_start_up(app: Flask, make_case, damage: str, caplog) -> None:
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
    get_follower(app).resign()  # a server starting again
    ensure_index(app)
    assert "rebuilding it from the database" in caplog.text
    assert _search_ids("axolotlian") == [case.id]
    assert check_index().is_clean


@pytest.mark.slow  # starts other processes: in `make test`, not test-fast
def test_two_processes_editing_at_once_lose_nothing(app: Flask, make_case, tmp_path: Path) -> None:
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
    catch_up(app)
    assert _search_ids("alphaedit14") == [ids[0]]
    assert _search_ids("betaedit14") == [ids[1]]
    assert check_index().is_clean


def test_a_pass_with_nothing_new_does_nothing(app: Flask) -> None:
    ensure_user("learner")  # a commit that changes no case writes no journal entry
    assert db.session.scalar(select(func.count()).select_from(SearchJournal)) == 0
    follower = get_follower(app)
    assert follower.try_lead()
    try:
        assert follower.step() == 0
    finally:
        follower.resign()


def test_a_large_change_is_written_in_batches_and_a_failed_batch_loses_nothing(
    app: Flask, make_case, monkeypatch
) -> None:
    """An import journals thousands of cases; the indexer takes MAX_BATCH_DOCS entries a
    pass (one index commit each, then its cursor). A failure in a pass redoes that pass."""
    import casestudies.indexing.follower as follower_module

    index = get_search_index()
    monkeypatch.setattr(follower_module, "MAX_BATCH_DOCS", 3)
    real_writing = index.writing
    batches: list[int] = []

    def failing_third_batch(expected: int = 1):
        batches.append(expected)
        if len(batches) == 3:
            raise OSError("simulated crash in the third batch")
        return real_writing(expected)

    monkeypatch.setattr(index, "writing", failing_third_batch)
    cases = [save_case_data(case_data(slug=f"batch-{n}", body="Okapiform notes.\n"), actor=None)[0] for n in range(8)]
    db.session.commit()  # one transaction, as an import is
    with pytest.raises(OSError):
        catch_up(app)
    assert batches == [3, 3, 2]
    assert len(_search_ids("okapiform")) == 6  # two passes landed, and their cursor
    monkeypatch.setattr(index, "writing", real_writing)
    catch_up(app)
    assert sorted(_search_ids("okapiform")) == sorted(case.id for case in cases)
    assert index.doc_count() == len(cases)
    assert check_index().is_clean
