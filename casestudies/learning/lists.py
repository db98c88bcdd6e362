"""Saved cases and reading lists: the only code that changes them.

A list belongs to its owner; by id only the owner reaches it (others get "not found", so
its existence is not revealed). A facilitator or above may share a list: then any signed-in
user reads it through its link, until sharing is switched off. Cases are never copied: a
list shows what is published now, and a case that is not (a draft again, in the bin,
purged) is shown by the title it had when saved, with "no longer available", never its text.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casestudies.audit.services import record
from casestudies.cases.rules import is_case_available
from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.models import Case, ReadingList, ReadingListItem, Role, User, utcnow
from casestudies.ordering import move_row, renumber

TITLE_MAX = 200
MAX_LISTS = 100
MAX_ITEMS = 500
DEFAULT_LIST_TITLE = "Saved cases"
PAGE_SIZE = 20  # cases on a page of a list
UNDO_SECONDS = 3600  # how long "Undo" after a removal keeps working


class ListNotFound(NotFound):
    """No such list for this user (a 404)."""


class ListError(Refused):
    """A rule refused the change; the message is for the user."""


def can_share_lists(user: User) -> bool:
    return user.has_role(Role.FACILITATOR)


def _list_query():
    return select(ReadingList).options(selectinload(ReadingList.items).selectinload(ReadingListItem.case))


def get_own_list(list_id: int, user: User) -> ReadingList:
    reading_list = db.session.scalar(_list_query().where(ReadingList.id == list_id))
    if reading_list is None or reading_list.owner_id != user.id:
        raise ListNotFound(list_id)
    return reading_list


def get_shared_list(token: str) -> ReadingList:
    """The list shared under this link, for anyone signed in; ListNotFound if the link is
    unknown or sharing was switched off."""
    if not token or len(token) > 64:
        raise ListNotFound(token)
    reading_list = db.session.scalar(_list_query().where(ReadingList.share_token == token))
    if reading_list is None or reading_list.share_token is None:
        raise ListNotFound(token)
    if not secrets.compare_digest(reading_list.share_token, token):
        raise ListNotFound(token)
    return reading_list


def lists_of(user: User) -> list[ReadingList]:
    return list(
        db.session.scalars(
            _list_query().where(ReadingList.owner_id == user.id).order_by(ReadingList.position, ReadingList.id)
        )
    )


def list_choices(user: User) -> list:
    """(id, title) of the user's lists in their order: for "Save to list"."""
    return list(
        db.session.execute(
            select(ReadingList.id, ReadingList.title)
            .where(ReadingList.owner_id == user.id)
            .order_by(ReadingList.position, ReadingList.id)
        )
    )


@dataclass(frozen=True)
class ShownItem:
    """A list item as a page shows it: the case when published, else only the title."""

    item: ReadingListItem
    case: Case | None  # None: "no longer available"
    title: str


def shown_items(reading_list: ReadingList) -> list[ShownItem]:
    return [
        ShownItem(item, item.case if is_case_available(item.case) else None, _title(item))
        for item in reading_list.items
    ]


def _title(item: ReadingListItem) -> str:
    return item.case.title if is_case_available(item.case) and item.case is not None else item.case_title


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ListError("Enter a name for the list")
    if len(title) > TITLE_MAX:
        raise ListError(f"A list’s name is at most {TITLE_MAX} characters")
    return title


def _touch(reading_list: ReadingList) -> None:
    reading_list.updated_at = utcnow()


def create_list(owner: User, title: str) -> ReadingList:
    title = _clean_title(title)
    count = db.session.scalar(select(func.count()).where(ReadingList.owner_id == owner.id)) or 0
    if count >= MAX_LISTS:
        raise ListError(f"You can have at most {MAX_LISTS} lists")
    reading_list = ReadingList(owner_id=owner.id, title=title, position=count)
    db.session.add(reading_list)
    db.session.flush()
    return reading_list


def rename_list(reading_list: ReadingList, title: str) -> None:
    reading_list.title = _clean_title(title)
    _touch(reading_list)
    db.session.flush()


def delete_list(reading_list: ReadingList) -> None:
    owner_id = reading_list.owner_id
    db.session.delete(reading_list)
    db.session.flush()
    renumber(lists_of_id(owner_id))


def lists_of_id(owner_id: int) -> list[ReadingList]:
    return list(
        db.session.scalars(
            select(ReadingList).where(ReadingList.owner_id == owner_id).order_by(ReadingList.position, ReadingList.id)
        )
    )


def move_list(reading_list: ReadingList, direction: str) -> bool:
    """Move a list up or down among its owner's lists; False when already first or last."""
    rows = lists_of_id(reading_list.owner_id)
    moved = move_row(rows, rows.index(reading_list), direction)
    db.session.flush()
    return moved


def _item(reading_list: ReadingList, item_id: int) -> ReadingListItem:
    for item in reading_list.items:
        if item.id == item_id:
            return item
    raise ListNotFound(item_id)


def move_item(reading_list: ReadingList, item_id: int, direction: str) -> bool:
    item = _item(reading_list, item_id)
    moved = move_row(reading_list.items, reading_list.items.index(item), direction)
    if moved:
        _touch(reading_list)
    db.session.flush()
    return moved


def item_index(reading_list: ReadingList, item_id: int) -> int:
    """Where the item stands in its list, from 0 (for the page that shows it)."""
    return reading_list.items.index(_item(reading_list, item_id))


@dataclass(frozen=True)
class RemovedItem:
    """What "Undo" needs to put a removed case back where it was."""

    list_id: int
    case_id: int
    case_title: str
    position: int
    title: str  # as the list showed it


def remove_item(reading_list: ReadingList, item_id: int) -> RemovedItem:
    """Take a case out of the list."""
    item = _item(reading_list, item_id)
    removed = RemovedItem(reading_list.id, item.case_id, item.case_title, item.position, _title(item))
    reading_list.items.remove(item)
    renumber(reading_list.items)
    _touch(reading_list)
    db.session.flush()
    return removed


def _undo_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="reading-list-undo")


def undo_token(removed: RemovedItem) -> str:
    """A signed note of the removal for the "Undo" button: the page can't be made to put
    back anything its owner didn't take out."""
    return str(_undo_signer().dumps(asdict(removed)))


class UndoExpired(ListError):
    """The "Undo" button is too old or was altered."""


def restore_item(reading_list: ReadingList, token: str) -> RemovedItem:
    """Put a removed case back at its old place (or at the end, if the list is shorter now).
    Nothing changes when the case is already back in the list."""
    try:
        removed = RemovedItem(**_undo_signer().loads(token or "", max_age=UNDO_SECONDS))
    except (BadSignature, TypeError) as exc:
        raise UndoExpired("That removal can no longer be undone: save the case again from its page") from exc
    if removed.list_id != reading_list.id:
        raise ListNotFound(removed.list_id)
    if any(item.case_id == removed.case_id for item in reading_list.items):
        return removed
    case = db.session.get(Case, removed.case_id)
    if case is None:
        raise ListError("That case is no longer in the library, so it can’t be put back")
    if len(reading_list.items) >= MAX_ITEMS:
        raise ListError(f"A list can hold at most {MAX_ITEMS} cases")
    position = min(removed.position, len(reading_list.items))
    reading_list.items.insert(position, ReadingListItem(case=case, case_title=removed.case_title, position=position))
    renumber(reading_list.items)
    _touch(reading_list)
    db.session.flush()
    return removed


def save_case(user: User, case_id: int, *, list_id: int | None, new_title: str = "") -> tuple[ReadingList, bool]:
    """Save a published case into one of the user's lists, or into a new list named
    new_title (DEFAULT_LIST_TITLE when the user has no list and gave no name). Returns the
    list and whether the case was added (False: it was already there)."""
    case = db.session.get(Case, case_id)
    if not is_case_available(case) or case is None or not user.can_view_case(case):
        raise ListError("Only published cases can be saved")
    if new_title.strip():  # a typed name wins over the menu, which may still show a list
        reading_list = _list_named(user, new_title)
    elif list_id is not None:
        reading_list = get_own_list(list_id, user)
    else:
        reading_list = create_list(user, DEFAULT_LIST_TITLE if not list_choices(user) else "")
    if any(item.case_id == case.id for item in reading_list.items):
        return reading_list, False
    if len(reading_list.items) >= MAX_ITEMS:
        raise ListError(f"A list can hold at most {MAX_ITEMS} cases")
    reading_list.items.append(ReadingListItem(case=case, case_title=case.title, position=len(reading_list.items)))
    _touch(reading_list)
    db.session.flush()
    return reading_list, True


def _list_named(user: User, title: str) -> ReadingList:
    """The user's list of that name (ignoring case), or a new one."""
    wanted = _clean_title(title).casefold()
    for list_id, existing in list_choices(user):
        if existing.casefold() == wanted:
            return get_own_list(list_id, user)
    return create_list(user, title)


def saved_case_ids(user: User) -> set[int]:
    """The cases in any of the user's lists: results show them as "Saved"."""
    return set(
        db.session.scalars(
            select(ReadingListItem.case_id)
            .join(ReadingList, ReadingList.id == ReadingListItem.list_id)
            .where(ReadingList.owner_id == user.id, ReadingListItem.case_id.is_not(None))
        )
    )


def copy_shared_list(reader: User, shared: ReadingList) -> ReadingList:
    """A copy of a list shared with the reader, as a new list of their own: its title and
    the cases it shows now (one no longer published is left out), in its order."""
    copy = create_list(reader, shared.title)
    for item in shared.items:
        if is_case_available(item.case) and item.case is not None and reader.can_view_case(item.case):
            if len(copy.items) >= MAX_ITEMS:
                break
            case = item.case
            copy.items.append(ReadingListItem(case=case, case_title=case.title, position=len(copy.items)))
    db.session.flush()
    return copy


def share_list(reading_list: ReadingList, actor: User) -> str:
    """Share the list by link (the same link while shared); recorded in the audit log."""
    if not can_share_lists(actor) or reading_list.owner_id != actor.id:
        raise ListError("Only facilitators, curators and admins can share a list")
    if reading_list.share_token is None:
        reading_list.share_token = secrets.token_urlsafe(24)
        reading_list.shared_at = utcnow()
        record(actor, "list-share", detail=f"Reading list {reading_list.id} “{reading_list.title}” shared by link")
        db.session.flush()
    return reading_list.share_token


def stop_sharing(reading_list: ReadingList, actor: User) -> None:
    """The old link stops working at once; sharing again makes a new link."""
    if reading_list.owner_id != actor.id:
        raise ListNotFound(reading_list.id)
    if reading_list.share_token is not None:
        reading_list.share_token = None
        reading_list.shared_at = None
        record(actor, "list-unshare", detail=f"Reading list {reading_list.id} “{reading_list.title}” no longer shared")
        db.session.flush()
