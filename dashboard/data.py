"""The dashboard's cached view of db.queries: every page reads numbers through here."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.cache import cached
from db import queries
from db.filters import Filters


@cached
def kpi_comparison(f: Filters, comparison: str, slugs: tuple[str, ...]) -> pd.DataFrame:
    return queries.kpi_comparison(None, f, comparison, slugs)


@cached
def timeseries(f: Filters, metric: str, by: str | None, interval: str) -> pd.DataFrame:
    return queries.timeseries(None, f, metric, by=by, interval=interval)


@cached
def breakdown(f: Filters, by: str = "channel") -> pd.DataFrame:
    return queries.breakdown(None, f, by=by)


@cached
def available_channels() -> pd.DataFrame:
    return queries.channels()


@cached
def available_currencies() -> list[str]:
    return queries.currencies()


@cached
def last_day() -> dt.date | None:
    return queries.date_bounds()[1]


def channel_labels() -> dict[str, str]:
    channels = available_channels()
    return dict(zip(channels["slug"], channels["name"]))
