"""The period an insights page covers, and the one before it (for trends)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

PERIOD_DAYS = (7, 30, 90, 365)
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    days: int
    end: date  # exclusive: tomorrow, so today counts

    @classmethod
    def last(cls, days: object, today: date) -> Period:
        """The last `days` days up to today; an unknown number is the default."""
        try:
            number = int(str(days))
        except ValueError:
            number = DEFAULT_DAYS
        return cls(number if number in PERIOD_DAYS else DEFAULT_DAYS, today + timedelta(days=1))

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days)

    @property
    def previous(self) -> Period:
        return Period(self.days, self.start)

    @property
    def month_start(self) -> date:
        """Monthly rows (older than INSIGHTS_RAW_DAYS) count when their month starts in the
        period's first month or later."""
        return self.start.replace(day=1)
