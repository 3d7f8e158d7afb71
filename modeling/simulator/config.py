"""The simulator's input and output contract (shared with the loader, ROI, forecast, allocator)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class SimConfig:
    """What to simulate.

    The window is anchored on `start_date` when given (then `end_date` defaults to
    start + days − 1; if both are given, `days` is ignored), otherwise on `end_date`
    (default: today, UTC). Randomness is indexed by day *from the start*, so only configs that
    share seed, scale and start date agree on their common days.
    """

    seed: int = 42
    days: int = 365
    end_date: dt.date | None = None
    start_date: dt.date | None = None
    scale: float = 1.0
    until_hour: int | None = None

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be at least 1")
        if self.scale <= 0:
            raise ValueError("scale must be positive")
        if self.until_hour is not None and not 0 <= self.until_hour <= 24:
            raise ValueError("until_hour must be within 0..24")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")

    def window(self) -> tuple[dt.date, dt.date]:
        """(first day, last day), both inclusive."""
        if self.start_date is not None:
            end = self.end_date or self.start_date + dt.timedelta(days=self.days - 1)
            return self.start_date, end
        end = self.end_date or dt.datetime.now(dt.timezone.utc).date()
        return end - dt.timedelta(days=self.days - 1), end


@dataclass
class SimResult:
    """Platform-shaped frames plus the ground truth that generated them.

    Money in `daily`, `hourly` and `audience` is in the account currency; `outcome.revenue`
    and everything in `truth` is USD. Date columns are datetime64[ns] at midnight.
    `lift_tests` are the published geo-holdout results (``experiments``), revenue in USD.
    """

    accounts: pd.DataFrame
    campaigns: pd.DataFrame
    ad_sets: pd.DataFrame
    ads: pd.DataFrame
    daily: pd.DataFrame
    hourly: pd.DataFrame
    audience: pd.DataFrame
    organic_posts: pd.DataFrame
    outcome: pd.DataFrame
    fx: pd.DataFrame
    anomalies: pd.DataFrame
    truth: dict
    lift_tests: pd.DataFrame
