"""The guide builder's rules, without a browser: every button saves what was typed first
(guides/builder.py), segments go where they are put and a new order is saved at once
(guides/sequence.py), and a case's suggested plan is placed around its questions and merged
with the segments already there (guides/suggested.py)."""

from __future__ import annotations

import pytest
from flask import Flask

from casestudies.cases import PlanStepData, TeachingNotesData
from casestudies.extensions import db
from casestudies.guides import builder, editing, sequence, suggested
from casestudies.guides import plan as timed_plan
from casestudies.guides.editing import GuideError

from . import test_guides
from .conftest import ensure_user
from .test_guides import make_guide, reload
from .test_teaching_notes import NOTES

two_cases = test_guides.two_cases  # the fixture, shared


def titles(guide) -> list[str]:
    return [entry.title for entry in timed_plan.plan_guide(guide).entries]


def minutes_of(guide) -> list[int]:
    return [q.minutes for item in guide.items for q in item.questions] + [s.minutes for s in guide.segments]


def typed_everywhere(guide, value: int) -> builder.TypedPlan:
    """Every question's and segment's minutes typed as `value`."""
    return builder.TypedPlan(
        questions={q.id: value for item in guide.items for q in item.questions},
        segments={s.id: value for s in guide.segments},
    )


def minutes_by_row(guide) -> dict[str, int]:
    rows = {f"q{q.id}": q.minutes for item in guide.items for q in item.questions}
    return rows | {f"s{s.id}": s.minutes for s in guide.segments}


def test_every_button_saves_the_typed_minutes_before_its_change(app: Flask, make_case) -> None:
    noted = make_case(slug="noted", title="The noted case", teaching_notes=PLAN)
    other = make_case(slug="other", title="The other case")
    guide = make_guide(ensure_user("facilitator"), noted, other)
    welcome = editing.add_segment(guide, "welcome")
    first = guide.items[0]
    question = first.questions[0]
    changes = [
        builder.PlanAction("save"),
        builder.PlanAction(f"case-down-{first.id}"),
        builder.PlanAction(f"segment-down-{welcome.id}"),
        builder.PlanAction(f"down-{question.id}"),
        builder.NewSegment("break", where=f"after:case-{first.id}"),
        builder.NewQuestion(first.id, "What would you have done?", "", 5),
        builder.SuggestedPlan(first.id),
    ]
    for number, change in enumerate(changes, start=30):
        guide = reload(guide)
        before = minutes_by_row(guide)
        builder.submit(guide, typed_everywhere(guide, number), change)
        db.session.commit()
        after = minutes_by_row(reload(guide))
        assert {row: after[row] for row in before} == dict.fromkeys(before, number), change
        assert len(after) > len(before) or not isinstance(change, builder.NewSegment | builder.NewQuestion)


def test_a_question_typed_in_any_box_is_added_by_any_button(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    first, second = guide.items
    typed = builder.TypedPlan({}, {}, new_questions=(builder.NewQuestion(second.id, "Typed, not added yet?", "", 4),))
    outcome = builder.submit(guide, typed, builder.PlanAction(f"case-down-{first.id}"))
    assert outcome.message == "The question you typed was added too."
    assert [q.text for q in reload(guide).items[0].questions][-1] == "Typed, not added yet?"


def test_a_refused_change_saves_nothing(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    before = minutes_of(guide)
    with pytest.raises(GuideError, match="Enter the question"):
        builder.submit(guide, typed_everywhere(guide, 7), builder.NewQuestion(guide.items[0].id, " ", "", 5))
    db.session.rollback()  # as the request does on a refusal
    assert minutes_of(reload(guide)) == before


def test_a_segment_goes_where_it_is_put(app: Flask, two_cases) -> None:
    porter, clerk = two_cases
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    first, second = guide.items
    editing.add_segment(guide, "close")  # at the end by default
    editing.add_segment(guide, "welcome", where=f"before:case-{first.id}")
    editing.add_segment(guide, "reading", item_id=second.id, where=f"before:case-{second.id}")
    editing.add_segment(guide, "break", where=f"after:case-{first.id}")
    close = next(s for s in guide.segments if s.kind == "close")
    editing.add_segment(guide, "plenary", where=f"before:segment-{close.id}")
    assert titles(reload(guide)) == [
        "Welcome and introductions",
        porter.title,
        "Break",
        f"Reading time: {clerk.title}",
        clerk.title,
        "Plenary",
        "Close",
    ]
    with pytest.raises(GuideError, match="no longer in the session"):
        editing.add_segment(guide, "break", where="after:case-999999")
    with pytest.raises(GuideError, match="no longer in the session"):
        editing.add_segment(guide, "break", where="beside:case-1")
    choices = dict(sequence.place_choices(guide))
    assert next(iter(choices)) == "end" and choices[f"after:case-{first.id}"] == f"After “{porter.title}”"


def test_a_whole_new_order_is_saved_once_and_must_match_the_session(app: Flask, two_cases) -> None:
    porter, clerk = two_cases
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    first, second = guide.items
    welcome = editing.add_segment(guide, "welcome")
    order = [f"segment-{welcome.id}", f"case-{second.id}", f"case-{first.id}"]
    builder.submit(guide, builder.TypedPlan({}, {}, order=order), builder.PlanAction("save"))
    db.session.commit()
    assert titles(reload(guide)) == ["Welcome and introductions", clerk.title, porter.title]
    for wrong in (order[:2], [*order, "case-999999"], [order[0], order[0], order[1]]):
        with pytest.raises(GuideError, match="changed since the page was loaded"):
            builder.submit(reload(guide), builder.TypedPlan({}, {}, order=wrong), builder.PlanAction("save"))
        db.session.rollback()
    # A move after a new order applies to the new order.
    guide = reload(guide)
    anchor = editing.update_plan(guide, {}, f"case-up-{first.id}", order=order)
    assert anchor == f"item-{first.id}"
    assert titles(guide) == ["Welcome and introductions", porter.title, clerk.title]


@pytest.mark.parametrize(
    ("activity", "kind"),
    [
        ("Read the case alone", "reading"),
        ("Re-read the second half", "reading"),
        ("Welcome and a quick round of names", "welcome"),
        ("Small groups: what did he do?", "activity"),
        ("Pairs: what would you have done?", "activity"),
        ("Plenary", "plenary"),
        ("Report back to the whole group", "plenary"),
        ("Close: one thing to try on Monday", "close"),
        ("Wrap-up", "close"),
        ("Coffee break", "break"),
    ],
)
def test_a_plan_step_is_told_by_its_words(activity: str, kind: str) -> None:
    assert suggested.step_kind(PlanStepData(5, activity)) == kind


PLAN = TeachingNotesData(
    plan=(
        PlanStepData(5, "Welcome"),
        PlanStepData(8, "Read the case"),
        PlanStepData(20, "Small groups: the porter's choices"),
        PlanStepData(15, "Plenary: what would you do?"),
        PlanStepData(5, "Close"),
    )
)


def test_the_suggested_plan_goes_around_the_questions_and_merges(app: Flask, make_case) -> None:
    with_notes = make_case(slug="noted", title="The noted case", teaching_notes=PLAN)
    other = make_case(slug="other", title="The other case")
    guide = make_guide(ensure_user("facilitator"), other, with_notes, duration_minutes=90)
    other_item, noted_item = guide.items
    # The facilitator already has a welcome at the start and a plenary and close at the end.
    editing.add_segment(guide, "welcome", minutes=10, where=f"before:case-{other_item.id}")
    editing.add_segment(guide, "plenary", minutes=20)
    editing.add_segment(guide, "close", minutes=5)
    result = suggested.add_suggested_plan(guide, noted_item.id)
    db.session.commit()
    assert titles(reload(guide)) == [
        "Welcome and introductions",
        "The other case",
        "Read the case",  # before the noted case's questions
        "The noted case",
        "Small groups: the porter's choices",
        "Plenary",  # the one already there: no second plenary or close
        "Close",
    ]
    assert [s.minutes for s in result.added] == [8, 20]
    assert [step for step, _ in result.merged] == ["Welcome", "Plenary: what would you do?", "Close"]
    assert "Already in the session, so kept as they are: “Welcome and introductions”, “Plenary”, “Close”" in (
        result.message()
    )
    # Time: 10 + 20 (other: its default question) + 8 + 20 (noted) + 20 + 20 + 5 = 103 of 90.
    plan = timed_plan.plan_guide(reload(guide))
    assert result.total_minutes == plan.total_minutes and result.over_by == plan.total_minutes - 90 > 0
    assert f"The session now runs {result.over_by} minutes over its 90 minutes" in result.message()

    # Added again: every step is there now, so nothing is added and nothing doubles.
    again = suggested.add_suggested_plan(reload(guide), noted_item.id)
    assert again.added == [] and len(again.merged) == 5
    assert "added no segment" in again.message()


def test_without_those_segments_the_plan_adds_them_after_the_case_in_its_order(app: Flask, make_case) -> None:
    with_notes = make_case(slug="noted", title="The noted case", teaching_notes=PLAN)
    other = make_case(slug="other", title="The other case")
    guide = make_guide(ensure_user("facilitator"), with_notes, other, duration_minutes=240)
    noted_item = guide.items[0]
    result = suggested.add_suggested_plan(guide, noted_item.id)
    assert titles(guide) == [
        "Welcome",
        "Read the case",
        "The noted case",
        "Small groups: the porter's choices",
        "Plenary: what would you do?",
        "Close",
        "The other case",
    ]
    assert [s.kind for s in result.added] == ["welcome", "reading", "activity", "plenary", "close"]
    assert result.over_by == 0 and "still fits the 240-minute session" in result.message()
    assert next(s for s in result.added if s.kind == "reading").item is noted_item


def test_the_suggested_plan_keeps_a_segment_set_after_the_case_before_its_plenary(app: Flask, make_case) -> None:
    with_notes = make_case(slug="noted", title="The noted case", teaching_notes=NOTES)
    guide = make_guide(ensure_user("facilitator"), with_notes)
    editing.add_segment(guide, "break")
    suggested.add_suggested_plan(guide, guide.items[0].id)
    assert titles(guide) == [
        "Read the case alone",
        "The noted case",
        "Small groups: what did he do?",
        "Break",
        "Plenary",
    ]


def test_a_refused_save_shows_the_order_moved_in_the_page_again(app: Flask, login, two_cases) -> None:
    porter, clerk = two_cases
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    first, second = guide.items
    order = f"case-{second.id},case-{first.id}"
    question = first.questions[0]
    response = login("facilitator").post(
        f"/guides/{guide.id}/plan", data={"order": order, f"minutes-{question.id}": "lots", "action": "save"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and f'name="order" value="{order}"' in page
    assert page.index(f'id="item-{second.id}"') < page.index(f'id="item-{first.id}"')
    assert titles(reload(guide)) == [porter.title, clerk.title]  # nothing saved


def test_add_the_segment_saves_the_minutes_typed_with_it(app: Flask, login, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    second = guide.items[1]
    typed = {f"minutes-{q.id}": "6" for item in guide.items for q in item.questions}
    response = login("facilitator").post(
        f"/guides/{guide.id}/segments",
        data=typed | {"segment_kind": "break", "segment_place": f"before:case-{second.id}"},
    )
    assert response.status_code == 302 and "#segment-row-" in response.headers["Location"]
    guide = reload(guide)
    assert {q.minutes for item in guide.items for q in item.questions} == {6}
    assert titles(guide)[1] == "Break"


# -- the new-segment box and a case's question order, through the one plan form ------------
def test_a_segment_typed_in_its_box_is_added_by_any_button_and_refused_with_nothing_saved(
    app: Flask, login, two_cases
) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    first, second = guide.items
    client = login("facilitator")
    box = {"segment_kind": "break", "segment_minutes": "6", "segment_label": "Coffee", "segment_place": "end"}
    # "Move case down" (without JavaScript, a button of the same form): the move, and the
    # segment typed in the box, which is not thrown away.
    response = client.post(f"/guides/{guide.id}/plan", data={**box, "action": f"case-down-{first.id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#item-{first.id}")
    guide = reload(guide)
    assert titles(guide) == [second.case_title, first.case_title, "Coffee"]
    assert [(s.label, s.minutes) for s in guide.segments] == [("Coffee", 6)]
    with client.session_transaction() as session:
        assert "The segment you typed, “Coffee”, was added too." in str(session.get("_flashes"))
    # "Save the timed plan" (what Enter in a field presses without JavaScript), the place
    # chosen in the box kept.
    box = {**box, "segment_label": "Tea", "segment_minutes": "7", "segment_place": f"before:case-{first.id}"}
    client.post(f"/guides/{guide.id}/plan", data={**box, "action": "save"})
    guide = reload(guide)
    assert titles(guide) == [second.case_title, "Tea", first.case_title, "Coffee"]
    # Removing the row the box's place names: the segment goes at the end instead.
    box = {**box, "segment_label": "Juice", "segment_place": f"after:case-{second.id}"}
    client.post(f"/guides/{guide.id}/plan", data={**box, "action": f"case-remove-{second.id}"})
    assert titles(reload(guide)) == ["Tea", first.case_title, "Coffee", "Juice"]
    # Minutes that are not a number in the box: refused, shown again, nothing saved.
    q = reload(guide).items[0].questions[0]
    response = client.post(
        f"/guides/{guide.id}/plan",
        data={**box, "segment_label": "Later", "segment_minutes": "six", f"minutes-{q.id}": "3", "action": "save"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'href="#segment-new-segment_minutes"' in page
    assert 'value="six"' in page and 'value="Later"' in page and 'value="3"' in page
    guide = reload(guide)
    assert "Later" not in titles(guide) and guide.items[0].questions[0].minutes != 3
    # Nothing typed in the box (its kind and place are only choices): no segment added.
    client.post(f"/guides/{guide.id}/plan", data={"segment_kind": "break", "action": "save"})
    assert len(reload(guide).segments) == 3


def test_a_cases_questions_reordered_in_the_page_are_saved_at_once(app: Flask, login, make_case) -> None:
    case = make_case(
        slug="many",
        title="Many questions",
        questions=(test_guides.Q("One?"), test_guides.Q("Two?"), test_guides.Q("Three?")),
    )
    guide = make_guide(ensure_user("facilitator"), case)
    item = guide.items[0]
    one, two, three = (q.id for q in item.questions)
    client = login("facilitator")
    response = client.post(
        f"/guides/{guide.id}/plan",
        data={f"qorder-{item.id}": f"{three},{one},{two}", f"minutes-{one}": "4", "action": "save"},
    )
    assert response.status_code == 302
    guide = reload(guide)
    assert [(q.text, q.minutes) for q in guide.items[0].questions] == [("Three?", 10), ("One?", 4), ("Two?", 10)]
    # The order sent no longer matches the case's questions (one removed meanwhile):
    # refused with a message, the page shows the order typed, nothing saved.
    response = client.post(
        f"/guides/{guide.id}/plan", data={f"qorder-{item.id}": f"{two},{one}", f"minutes-{one}": "9", "action": "save"}
    )
    assert response.status_code == 400
    assert "changed since the page was loaded" in response.get_data(as_text=True)
    assert [q.minutes for q in reload(guide).items[0].questions] == [10, 4, 10]
    # A refused save of another field shows the questions in the order moved, kept for the next save.
    response = client.post(
        f"/guides/{guide.id}/plan",
        data={f"qorder-{item.id}": f"{two},{three},{one}", f"minutes-{one}": "lots", "action": "save"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and f'name="qorder-{item.id}" value="{two},{three},{one}"' in page
    form = page[page.index('id="plan-form"') :]  # (the timed plan's table above shows the saved order)
    assert form.index("Two?") < form.index("Three?") < form.index("One?")
