"""The alerts step of the hourly cycle: re-check the last days of every campaign for numbers
that broke from their normal range, and store what was found.

Each run re-checks `recheck_days` complete days (platforms restate recent days, and an alert
on a restated day may appear or vanish) against `history_days` before them, and replaces the
alerts of exactly those days in one transaction. It skips when the data has not changed.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd

from db import alert_queries as aq
from db.config import get_settings
from db.filters import Filters
from db.ingest import get_state, set_state
from db.model_queries import last_complete_day
from db.queries import daily_by, data_version, names
from db.session import get_engine, unit_of_work
from jobs.runs import tracked
from modeling import anomaly

log = logging.getLogger("demetra.jobs")
STATE_KEY = "alerts:data_version"


@dataclass(frozen=True)
class AlertJobConfig:
    #: Days re-checked on every run: Meta restates up to 28 days, but an alert matters while it
    #: is fresh; two weeks catch restatements of the days anyone still acts on.
    recheck_days: int = 14
    #: History before the re-checked days that the normal range is learnt from.
    history_days: int = 56


def campaign_days(date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """[date, campaign_id, channel, spend, impressions, clicks, conversions, revenue]."""
    engine = get_engine()
    daily = daily_by(engine, Filters(date_from, date_to), by="campaign")
    if daily.empty:
        return daily.assign(channel=pd.Series(dtype=object))
    channel = names(engine, "campaign", daily["campaign_id"].unique().tolist()).set_index("id")["parent"]
    return daily.assign(channel=daily["campaign_id"].map(channel))


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def detect_alerts(cycle_id: str, attempt: int | None = None,
                  config: AlertJobConfig | None = None) -> int:
    """Detect and store alerts for the re-checked days; returns how many were found."""
    config = config or AlertJobConfig()
    with tracked("alerts", cycle_id, attempt=attempt) as run:
        engine = get_engine()
        version = data_version(engine)
        with engine.connect() as conn:
            if get_state(conn, STATE_KEY) == version:
                log.info("cycle %s: alerts skipped, data unchanged", cycle_id)
                return 0
        end = last_complete_day(engine, _today())
        if end is None:
            return 0
        since = end - dt.timedelta(days=config.recheck_days - 1)
        daily = campaign_days(since - dt.timedelta(days=config.history_days), end)
        found = anomaly.detect(daily, since=since,
                               config=anomaly.AnomalyConfig(currency=get_settings().reporting_currency))
        with unit_of_work() as conn:
            aq.replace_window(conn, found, since, end)
            set_state(conn, STATE_KEY, version)
        run.rows = len(found)
    return run.rows
