"""Long lists, collections and notebooks come a page at a time, and a case taken out of a
list can be put back with "Undo"."""

from __future__ import annotations

import re

from flask import Flask

from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.learning import collections, lists, notebook

from .conftest import case_data, ensure_user


def _cases(count: int) -> list:
    made = []
    for number in range(1, count + 1):
        case, _ = save_case_data(case_data(title=f"Case number {number:02d}", slug=f"case-{number:02d}"), actor=None)
        made.append(case)
    db.session.flush()
    return made


def _list_of(count: int):
    learner = ensure_user("learner")
    cases = _cases(count)
    reading_list, _ = lists.save_case(learner, cases[0].id, list_id=None)
    for case in cases[1:]:
        lists.save_case(learner, case.id, list_id=reading_list.id)
    db.session.commit()
    return reading_list


def _titles(html: str) -> list[str]:
    return re.findall(r">(Case number \d\d)</a>", html)


def test_a_long_list_comes_a_page_at_a_time_and_a_move_lands_on_the_items_page(app: Flask, login) -> None:
    reading_list = _list_of(25)
    client = login("learner")
    first = client.get(f"/my/lists/{reading_list.id}").get_data(as_text=True)
    assert _titles(first) == [f"Case number {n:02d}" for n in range(1, 21)]
    assert "Cases 1 to 20 of 25" in first and f"/my/lists/{reading_list.id}?page=2" in first
    second = client.get(f"/my/lists/{reading_list.id}?page=2").get_data(as_text=True)
    assert _titles(second) == [f"Case number {n:02d}" for n in range(21, 26)]
    assert 'start="21"' in second
    # Past the end: the last page, not an empty one.
    assert _titles(client.get(f"/my/lists/{reading_list.id}?page=9").get_data(as_text=True))[0] == "Case number 21"

    item_21 = reading_list.items[20]
    moved = client.post(f"/my/lists/{reading_list.id}/items/{item_21.id}/move", data={"direction": "up"})
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith(f"/my/lists/{reading_list.id}#item-{item_21.id}")  # now 20th: page 1
    moved = client.post(f"/my/lists/{reading_list.id}/items/{item_21.id}/move", data={"direction": "down"})
    assert moved.headers["Location"].endswith(f"?page=2#item-{item_21.id}")


def test_undo_puts_a_removed_case_back_where_it_was(app: Flask, login) -> None:
    reading_list = _list_of(5)
    client = login("learner")
    third = reading_list.items[2]
    removed = client.post(f"/my/lists/{reading_list.id}/items/{third.id}/remove", follow_redirects=True)
    page = removed.get_data(as_text=True)
    assert "“Case number 03” removed from the list." in page
    assert _titles(page) == ["Case number 01", "Case number 02", "Case number 04", "Case number 05"]
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert f'action="/my/lists/{reading_list.id}/items/restore"' in page

    restored = client.post(f"/my/lists/{reading_list.id}/items/restore", data={"token": token}, follow_redirects=True)
    page = restored.get_data(as_text=True)
    assert "“Case number 03” is back in the list." in page
    assert _titles(page) == [f"Case number {n:02d}" for n in range(1, 6)]
    # Undoing twice changes nothing.
    client.post(f"/my/lists/{reading_list.id}/items/restore", data={"token": token})
    db.session.expire_all()
    assert [item.case_title for item in lists.get_own_list(reading_list.id, ensure_user("learner")).items] == [
        f"Case number {n:02d}" for n in range(1, 6)
    ]


def test_undo_refuses_an_altered_or_old_token_and_another_list(app: Flask, login, monkeypatch) -> None:
    reading_list = _list_of(3)
    learner = ensure_user("learner")
    other = lists.create_list(learner, "Other")
    db.session.commit()
    client = login("learner")
    first = reading_list.items[0]
    page = client.post(f"/my/lists/{reading_list.id}/items/{first.id}/remove", follow_redirects=True)
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)

    altered = client.post(f"/my/lists/{reading_list.id}/items/restore", data={"token": token[:-2] + "xx"})
    assert altered.status_code == 302
    assert "can no longer be undone" in client.get(altered.headers["Location"]).get_data(as_text=True)
    # A token names its own list: replaying it on another list finds nothing.
    assert client.post(f"/my/lists/{other.id}/items/restore", data={"token": token}).status_code == 404
    monkeypatch.setattr(lists, "UNDO_SECONDS", -1)
    client.post(f"/my/lists/{reading_list.id}/items/restore", data={"token": token})
    db.session.expire_all()
    assert len(lists.get_own_list(reading_list.id, learner).items) == 2


def test_the_notebook_pages_reflections_and_cpd_entries_separately(app: Flask, login) -> None:
    from datetime import date

    learner = ensure_user("learner")
    for number in range(1, 24):
        notebook.save_reflection(
            learner, notebook.ReflectionInput(kind="free", title=f"Reflection {number:02d}", body="What I learned.")
        )
    for number in range(1, 23):
        notebook.save_cpd_entry(
            learner,
            notebook.CpdInput(
                done_on=date(2026, 1, number),
                method=next(iter(notebook.CPD_METHODS)),
                hours="1",
                is_participatory=False,
                code_theme=None,
                topic=f"Topic {number:02d}",
            ),
        )
    db.session.commit()
    client = login("learner")
    page = client.get("/my/notebook").get_data(as_text=True)
    assert "Reflections 1 to 20 of 23" in page and "Entries 1 to 20 of 22" in page
    assert len(re.findall(r"Reflection \d\d<", page)) == 20 and len(re.findall(r"Topic \d\d<", page)) == 20
    assert "22.0 hours" in page or "22 hours" in page  # the totals count every entry, not one page
    later = client.get("/my/notebook?page=2&cpd_page=2").get_data(as_text=True)
    assert len(re.findall(r"Reflection \d\d<", later)) == 3 and len(re.findall(r"Topic \d\d<", later)) == 2
    assert "cpd_page=1#cpd" in later and "page=1" in later


def test_a_long_collection_comes_a_page_at_a_time(app: Flask, login) -> None:
    curator = ensure_user("curator")
    cases = _cases(23)
    collection = collections.create_collection(collections.CollectionDetails(title="Flow"))
    for case in cases:
        collections.add_case(collection, case.slug, curator)
    db.session.commit()
    client = login("learner")
    first = client.get(f"/collections/{collection.slug}").get_data(as_text=True)
    assert len(_titles(first)) == 20 and "Cases 1 to 20 of 23" in first
    second = client.get(f"/collections/{collection.slug}?page=2").get_data(as_text=True)
    assert _titles(second) == ["Case number 21", "Case number 22", "Case number 23"]
