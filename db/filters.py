"""The small vocabulary of periods, comparisons and filters shared by pages, API and jobs."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

PRESETS: dict[str, str] = {
    "7d": "Last 7 days",
    "28d": "Last 28 days",
    "90d": "Last 90 days",
    "mtd": "Month to date",
    "qtd": "Quarter to date",
    "ytd": "Year to date",
    "365d": "Last 365 days",
    "custom": "Custom",
}

COMPARISONS: dict[str, str] = {
    "previous": "Previous period",
    "year": "Same period last year",
    "off": "No comparison",
}


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """Presets end at `today` (the last date with data), like every ads UI does."""
    days = {"7d": 7, "28d": 28, "90d": 90, "365d": 365}
    if preset in days:
        return today - dt.timedelta(days=days[preset] - 1), today
    if preset == "mtd":
        return today.replace(day=1), today
    if preset == "qtd":
        return today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1), today
    if preset == "ytd":
        return today.replace(month=1, day=1), today
    raise ValueError(f"unknown period preset {preset!r}")


@dataclass(frozen=True)
class Filters:
    date_from: dt.date
    date_to: dt.date
    channels: tuple[str, ...] = ()       # platform slugs; empty means all
    account_ids: tuple[int, ...] = ()
    campaign_ids: tuple[int, ...] = ()
    currency: str | None = None          # None means the reporting currency

    def __post_init__(self) -> None:
        if self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def compared(self, mode: str) -> Filters | None:
        """The comparison window: the same length right before, or 364 days back (same weekdays)."""
        if mode == "off":
            return None
        if mode == "previous":
            shift = dt.timedelta(days=self.days)
        elif mode == "year":
            shift = dt.timedelta(days=364)
        else:
            raise ValueError(f"unknown comparison {mode!r}")
        return replace(self, date_from=self.date_from - shift, date_to=self.date_to - shift)
