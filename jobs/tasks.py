"""The steps of the hourly cycle. Each is idempotent and safe to run twice.

A step is a plain function (cycle_id, attempt) → rows; jobs.cycle chains them on RQ (or runs
them in-process when Redis is away) and jobs.runs records each execution.
"""
from __future__ import annotations

import datetime as dt

from db.config import get_settings
from db.session import unit_of_work
from jobs.runs import tracked
from jobs.sources import demo


def sync_sources(cycle_id: str, attempt: int | None = None) -> int:
    """Pull every configured source up to the current hour; each source commits whole or not at all."""
    settings = get_settings()
    with tracked("sync", cycle_id, source="demo", attempt=attempt) as run:
        with unit_of_work() as conn:
            run.rows = demo.sync(conn, dt.datetime.now(dt.timezone.utc), settings.reporting_currency)
    return run.rows
