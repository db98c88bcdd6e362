"""Rows kept in an order of their own (a `position` column): guides' cases and segments,
reading lists and their cases."""

from __future__ import annotations

from typing import Any


def renumber(rows: list[Any]) -> None:
    for position, row in enumerate(rows):
        row.position = position


def move_row(rows: list[Any], index: int, direction: str) -> bool:
    """Swap rows[index] with its neighbour "up" or "down"; False if there is none."""
    other = index - 1 if direction == "up" else index + 1 if direction == "down" else -1
    if not 0 <= other < len(rows):
        return False
    # Swap positions, then sort in place: assigning items of an ORM collection would fire
    # remove events, and delete-orphan would delete a row that is only changing place.
    renumber(rows)
    rows[index].position, rows[other].position = other, index
    rows.sort(key=lambda row: row.position)
    return True
