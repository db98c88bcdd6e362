"""The limits of a case's fields, shared by the editor, the case-file reader and the guides."""

from __future__ import annotations

TITLE_MAX_LENGTH = 200
SUMMARY_MAX_LENGTH = 600
SEAT_MAX_LENGTH = 80
SETTING_MAX_LENGTH = 80
TAG_MAX_LENGTH = 50

# Minutes of a question, a plan step or a session's part: whole minutes in this range.
MINUTES_MIN, MINUTES_MAX = 1, 240

TEACHING_TEXT_MAX_LENGTH = 10_000  # each text of a teaching note
TEACHING_ITEM_MAX_LENGTH = 500  # each objective, key point or plan activity
TEACHING_ITEMS_MAX = 40  # objectives, key points or plan steps


def minutes_allowed(number: int) -> bool:
    """The one check of a number of minutes against the limits."""
    return MINUTES_MIN <= number <= MINUTES_MAX
