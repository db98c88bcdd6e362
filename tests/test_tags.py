"""Tags: the page with every tag and its number of cases; rename, merge, delete an unused tag.
Each change reaches the cases (as new revisions, old ones intact) and the search index."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies import curation
from casestudies.curation import tags
from casestudies.curation.tags import TagError, TagNameTaken
from casestudies.extensions import db
from casestudies.indexing import catch_up, check_index
from casestudies.library.services import LibraryFilters, search_cases
from casestudies.models import AuditEvent, Case, CaseRevision, Tag

from .conftest import ensure_user


def tag_named(name: str) -> Tag:
    tag = db.session.scalar(select(Tag).where(Tag.key == name.casefold()))
    assert tag is not None, name
    return tag


def tag_names(case: Case) -> list[str]:
    db.session.refresh(case)
    return [t.name for t in case.tags]


def found(words: str = "", tag: str | None = None) -> set[str]:
    viewer = ensure_user("curator")
    results = search_cases(viewer, words, filters=LibraryFilters(tag=tag), per_page=100)
    return {item.case.slug for item in results.items}


@pytest.fixture
def two_cases(make_case):
    first = make_case(slug="porter-lounge", tags=("patient experience", "flow"))
    second = make_case(slug="clerk-phones", title="A ward clerk fixes the phones", tags=("Flow", "phones"))
    return first, second


# -- services -----------------------------------------------------------------------------------------
def test_list_tags_counts_live_cases_and_those_in_the_bin(two_cases) -> None:
    first, _ = two_cases
    curation.delete_case(first, ensure_user("curator"), "Leaving the library")
    db.session.commit()
    uses = {use.tag.name: use for use in tags.list_tags()}
    assert list(uses) == ["flow", "patient experience", "phones"]  # alphabetical, one "flow" for both spellings
    assert (uses["flow"].cases, uses["flow"].binned) == (1, 1)
    assert (uses["patient experience"].cases, uses["patient experience"].binned) == (0, 1)
    assert not uses["patient experience"].is_unused


def test_rename_reaches_every_case_as_a_new_revision_and_keeps_the_old_ones(two_cases) -> None:
    first, second = two_cases
    curator = ensure_user("curator")
    old_revisions = {r.id: r.content for r in db.session.scalars(select(CaseRevision))}
    versions = (first.version, second.version)
    changed = tags.rename_tag(tag_named("flow"), "patient flow wombat", curator)
    db.session.commit()
    assert {c.slug for c in changed} == {"porter-lounge", "clerk-phones"}
    assert "patient flow wombat" in tag_names(first) and "patient flow wombat" in tag_names(second)
    assert (first.version, second.version) == (versions[0] + 1, versions[1] + 1)
    # Old revisions are snapshots: untouched. The new one holds the new name.
    for revision_id, content in old_revisions.items():
        assert db.session.get(CaseRevision, revision_id).content == content
    latest = first.revisions[-1]
    assert latest.number == first.version and latest.author == curator
    assert "patient flow wombat" in latest.content and "Tag “flow” renamed" in latest.summary
    # The audit log has it, once per case.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "tag-rename")).all()
    assert {e.case_id for e in events} == {first.id, second.id}
    assert all(e.actor_id == curator.id for e in events)
    # And search follows.
    catch_up()
    assert check_index().is_clean
    assert found("wombat") == {"porter-lounge", "clerk-phones"}
    assert found(tag="patient flow wombat") == {"porter-lounge", "clerk-phones"}
    assert found(tag="flow") == set()


def test_rename_can_change_only_the_capitals(two_cases) -> None:
    tags.rename_tag(tag_named("phones"), "Phones", ensure_user("curator"))
    db.session.commit()
    assert tag_named("phones").name == "Phones"
    assert tags.rename_tag(tag_named("phones"), "Phones", ensure_user("curator")) == []  # same name: nothing


def test_renaming_onto_an_existing_tag_in_any_capitals_is_refused_and_points_to_merge(two_cases) -> None:
    with pytest.raises(TagNameTaken) as refused:
        tags.rename_tag(tag_named("phones"), "  PATIENT   Experience ", ensure_user("curator"))
    assert "merge" in str(refused.value) and refused.value.other.name == "patient experience"
    db.session.rollback()
    assert tag_named("phones").name == "phones"


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Enter a tag name"), ("   ", "Enter a tag name"), ("x" * 51, "50 characters"), ("a, b", "comma")],
)
def test_a_bad_new_name_is_refused_with_a_reason(two_cases, name: str, message: str) -> None:
    with pytest.raises(TagError, match=message):
        tags.rename_tag(tag_named("phones"), name, ensure_user("curator"))


def test_merge_moves_every_case_to_the_target_and_deletes_the_source(make_case) -> None:
    curator = ensure_user("curator")
    both = make_case(slug="both-tags", tags=("teamwork", "team work"))
    only_source = make_case(slug="only-source", title="Second", tags=("team work", "other"))
    only_target = make_case(slug="only-target", title="Third", tags=("teamwork",))
    target_version = only_target.version
    changed = tags.merge_tags(tag_named("team work"), tag_named("teamwork"), curator)
    db.session.commit()
    assert {c.slug for c in changed} == {"both-tags", "only-source"}
    assert tag_names(both) == ["teamwork"]
    assert tag_names(only_source) == ["other", "teamwork"]
    assert db.session.scalar(select(Tag).where(Tag.key == "team work")) is None
    assert only_target.version == target_version  # untouched: it already had the target only
    assert "merged into" in only_source.revisions[-1].summary
    assert "team work" in only_source.revisions[0].content  # the first revision is as it was
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "tag-merge")).all()
    assert {e.case_id for e in events} == {both.id, only_source.id}
    catch_up()
    assert check_index().is_clean
    assert found(tag="teamwork") == {"both-tags", "only-source", "only-target"}
    assert found(tag="team work") == set()


def test_merging_a_tag_into_itself_is_refused(two_cases) -> None:
    with pytest.raises(TagError, match="different tag"):
        tags.merge_tags(tag_named("flow"), tag_named("flow"), ensure_user("curator"))


def test_only_an_unused_tag_can_be_deleted_even_a_binned_case_counts(two_cases) -> None:
    first, _ = two_cases
    curator = ensure_user("curator")
    with pytest.raises(TagError, match="1 case"):
        tags.delete_tag(tag_named("phones"), curator)
    curation.delete_case(first, curator, "Leaving the library")
    db.session.commit()
    with pytest.raises(TagError, match="in the bin"):
        tags.delete_tag(tag_named("patient experience"), curator)
    db.session.rollback()
    lonely = Tag(name="Lonely", key="lonely")
    db.session.add(lonely)
    db.session.commit()
    tags.delete_tag(lonely, curator)
    db.session.commit()
    assert db.session.scalar(select(Tag).where(Tag.key == "lonely")) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "tag-delete"))
    assert event.case_id is None and "Lonely" in event.detail
    catch_up()
    assert check_index().is_clean


# -- pages --------------------------------------------------------------------------------------------
def test_the_tags_page_lists_every_tag_with_its_count_and_a_link_to_its_cases(login, two_cases) -> None:
    page = login("curator").get("/tags/").get_data(as_text=True)
    assert "patient experience" in page and "phones" in page
    assert 'href="/cases?tag=flow"' in page and ">2<" in page


def test_rename_through_the_page(app: Flask, login, two_cases) -> None:
    client = login("curator")
    tag_id = tag_named("phones").id
    assert 'value="phones"' in client.get(f"/tags/{tag_id}/rename").get_data(as_text=True)
    response = client.post(f"/tags/{tag_id}/rename", data={"name": "telephones"})
    assert response.status_code == 302
    assert "Renamed “phones” to “telephones” on 1 case" in client.get("/tags/").get_data(as_text=True)
    db.session.expire_all()
    assert tag_named("telephones").id == tag_id


def test_renaming_onto_an_existing_name_on_the_page_says_merge_and_keeps_the_name_typed(login, two_cases) -> None:
    client = login("curator")
    phones, flow = tag_named("phones"), tag_named("flow")
    response = client.post(f"/tags/{phones.id}/rename", data={"name": "FLOW"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nhsuk-error-summary" in page and "merge" in page
    assert f'href="/tags/{phones.id}/merge?into={flow.id}"' in page
    assert 'value="FLOW"' in page


def test_merge_needs_a_target_and_the_confirmation_box(login, two_cases) -> None:
    client = login("curator")
    phones, flow = tag_named("phones"), tag_named("flow")
    response = client.post(f"/tags/{phones.id}/merge", data={"into": str(flow.id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Tick the box" in page
    assert f'<option value="{flow.id}" selected' in page  # the choice is kept
    response = client.post(f"/tags/{phones.id}/merge", data={"into": "", "confirm": "y"})
    assert response.status_code == 400 and "Choose the tag" in response.get_data(as_text=True)
    phones_id = phones.id
    response = client.post(f"/tags/{phones_id}/merge", data={"into": str(flow.id), "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Tag, phones_id) is None
    catch_up()
    assert check_index().is_clean


def test_the_merge_page_preselects_the_tag_from_a_refused_rename(login, two_cases) -> None:
    phones, flow = tag_named("phones"), tag_named("flow")
    page = login("curator").get(f"/tags/{phones.id}/merge?into={flow.id}").get_data(as_text=True)
    assert f'<option value="{flow.id}" selected' in page


def test_delete_through_the_page_asks_first_and_refuses_a_used_tag(login, two_cases) -> None:
    client = login("curator")
    phones = tag_named("phones")
    page = client.get(f"/tags/{phones.id}/delete").get_data(as_text=True)
    assert "can’t be deleted" in page and "Delete the tag</button>" not in page
    response = client.post(f"/tags/{phones.id}/delete")
    assert response.status_code == 400 and "still used by 1 case" in response.get_data(as_text=True)
    lonely = Tag(name="lonely", key="lonely")
    db.session.add(lonely)
    db.session.commit()
    lonely_id = lonely.id
    assert "Delete the tag" in client.get(f"/tags/{lonely_id}/delete").get_data(as_text=True)
    assert client.post(f"/tags/{lonely_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Tag, lonely_id) is None


def test_an_unknown_tag_is_a_404(login) -> None:
    client = login("curator")
    assert client.get("/tags/999/rename").status_code == 404
    assert client.post("/tags/999/merge", data={"into": "1", "confirm": "y"}).status_code == 404


def test_tag_forms_need_the_csrf_token(csrf_app: Flask, make_case) -> None:
    from .conftest import PASSWORD

    client = csrf_app.test_client()
    user = ensure_user("curator")
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    response = client.post("/tags/1/rename", data={"name": "anything"})
    assert response.status_code == 400
