"""Forms of My learning. Flask-WTF checks each one's CSRF token; the rules on the values
live in the services (lists.py, collections.py, notebook.py), which name the field at fault."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from casestudies.learning.collections import CollectionDetails
from casestudies.learning.notebook import CpdInput, OpenCpdEntry, OpenReflection, ReflectionInput
from casestudies.params import parse_int


class ActionForm(FlaskForm):
    """Buttons (move, remove, share, delete): the CSRF token is the point."""


class SaveCaseForm(FlaskForm):
    """ "Save" on a case page or a search result: the case, an existing list ("new" for a
    new one) and the new list's name."""

    case_id = HiddenField()
    list_id = HiddenField(default="new")  # a <select> or a hidden input in the page
    new_title = StringField("Name of the new list")
    next = HiddenField()

    def parsed(self) -> tuple[int | None, int | None]:
        return parse_int(self.case_id.data or ""), parse_int((self.list_id.data or "new").strip())


class ListTitleForm(FlaskForm):
    title = StringField("Name of the list")


class CollectionForm(FlaskForm):
    title = StringField("Title")
    introduction = TextAreaField("Introduction (optional)")
    is_featured = BooleanField("Feature this collection on the home page")

    def details(self) -> CollectionDetails:
        return CollectionDetails(self.title.data or "", self.introduction.data or "", bool(self.is_featured.data))


class AddCollectionCaseForm(FlaskForm):
    slug = StringField("Case address or slug")


class ReflectionForm(FlaskForm):
    kind = HiddenField(default="nmc")
    title = StringField("Title (for you)")
    nature = TextAreaField()
    learned = TextAreaField()
    changed = TextAreaField()
    relevance = TextAreaField()
    body = TextAreaField("Your reflection")
    activity_month = StringField("Month")
    activity_year = StringField("Year")
    case_id = HiddenField()
    keep_case = BooleanField(default=True)
    guide_id = StringField("Session (optional)")

    @classmethod
    def for_reflection(cls, opened: OpenReflection) -> ReflectionForm:
        text = opened.text
        form = cls(
            data={
                "kind": text.kind,
                "title": text.title,
                "nature": text.nature,
                "learned": text.learned,
                "changed": text.changed,
                "relevance": text.relevance,
                "body": text.body,
                "activity_month": str(text.activity_month or ""),
                "activity_year": str(text.activity_year or ""),
                "case_id": str(text.case_id or ""),
                "keep_case": True,
                "guide_id": str(text.guide_id or ""),
            }
        )
        form.chosen_themes = tuple(text.themes)
        return form

    chosen_themes: tuple[str, ...] = ()

    def parsed(self, themes: list[str]) -> ReflectionInput:
        self.chosen_themes = tuple(themes)
        month = (self.activity_month.data or "").strip()
        year = (self.activity_year.data or "").strip()
        return ReflectionInput(
            kind=(self.kind.data or "").strip(),
            title=self.title.data or "",
            nature=self.nature.data or "",
            learned=self.learned.data or "",
            changed=self.changed.data or "",
            relevance=self.relevance.data or "",
            body=self.body.data or "",
            themes=tuple(themes[:10]),
            activity_month=parse_int(month, minimum=0, maximum=99) if month else None,
            # A year that is not a number is kept as -1 so that the service refuses it.
            activity_year=(parse_int(year, maximum=9999) or -1) if year else None,
            case_id=parse_int(self.case_id.data or "") if self.keep_case.data else None,
            # Not a number: kept as 0, which names no session, so that the service refuses it.
            guide_id=(parse_int(guide) or 0) if (guide := (self.guide_id.data or "").strip()) else None,
        )


def _parse_date(day: str, month: str, year: str) -> date | None:
    numbers = [parse_int(value, maximum=9999) for value in (day, month, year)]
    if any(number is None for number in numbers):
        return None
    try:
        return date(numbers[2], numbers[1], numbers[0])
    except ValueError:
        return None


class CpdForm(FlaskForm):
    day = StringField("Day")
    month = StringField("Month")
    year = StringField("Year")
    method = StringField("Method")
    hours = StringField("Hours")
    is_participatory = StringField("Participatory")
    code_theme = StringField("Theme of the Code (optional)")
    topic = StringField("Topic")
    notes = TextAreaField("Notes (optional)")

    chosen_reflections: tuple[int, ...] = ()

    @classmethod
    def for_entry(cls, opened: OpenCpdEntry) -> CpdForm:
        entry = opened.entry
        form = cls(
            data={
                "day": str(entry.done_on.day),
                "month": str(entry.done_on.month),
                "year": str(entry.done_on.year),
                "method": entry.method,
                "hours": opened.hours,
                "is_participatory": "yes" if entry.is_participatory else "no",
                "code_theme": entry.code_theme or "",
                "topic": opened.topic,
                "notes": opened.notes,
            }
        )
        form.chosen_reflections = tuple(r.id for r in opened.reflections)
        return form

    def parsed(self, reflection_ids: list[str]) -> CpdInput:
        ids = tuple(i for i in (parse_int(value) for value in reflection_ids[:200]) if i is not None)
        self.chosen_reflections = ids
        return CpdInput(
            done_on=_parse_date(self.day.data or "", self.month.data or "", self.year.data or ""),
            method=(self.method.data or "").strip(),
            hours=self.hours.data or "",
            is_participatory=(self.is_participatory.data or "") == "yes",
            code_theme=(self.code_theme.data or "").strip() or None,
            topic=self.topic.data or "",
            notes=self.notes.data or "",
            reflection_ids=ids,
        )
