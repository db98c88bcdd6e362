"""The CPD log's totals: hours per year and per method, and progress towards the NMC's
revalidation requirement (35 hours over the three years before revalidation, 20 of them
participatory). Plain arithmetic on the owner's entries; nothing is stored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from casestudies.models import CpdEntry

NMC_HOURS = 35
NMC_PARTICIPATORY_HOURS = 20
NMC_YEARS = 3


@dataclass(frozen=True)
class YearTotal:
    year: int
    minutes: int
    participatory_minutes: int


@dataclass(frozen=True)
class CpdTotals:
    by_year: list[YearTotal]  # newest year first
    by_method: list[tuple[str, int]]  # (method, minutes), most hours first
    since: date  # the start of the revalidation window
    window_minutes: int
    window_participatory_minutes: int

    @property
    def window_percent(self) -> int:
        return min(100, round(100 * self.window_minutes / (NMC_HOURS * 60)))

    @property
    def participatory_percent(self) -> int:
        return min(100, round(100 * self.window_participatory_minutes / (NMC_PARTICIPATORY_HOURS * 60)))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def cpd_totals(entries: list[CpdEntry], today: date) -> CpdTotals:
    years: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    methods: dict[str, int] = defaultdict(int)
    since = _years_before(today, NMC_YEARS)
    window, participatory = 0, 0
    for entry in entries:
        year = years[entry.done_on.year]
        year[0] += entry.minutes
        methods[entry.method] += entry.minutes
        if entry.is_participatory:
            year[1] += entry.minutes
        if since < entry.done_on <= today:
            window += entry.minutes
            participatory += entry.minutes if entry.is_participatory else 0
    return CpdTotals(
        by_year=[YearTotal(y, m, p) for y, (m, p) in sorted(years.items(), reverse=True)],
        by_method=sorted(methods.items(), key=lambda item: (-item[1], item[0])),
        since=since,
        window_minutes=window,
        window_participatory_minutes=participatory,
    )
