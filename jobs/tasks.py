"""The steps of the hourly cycle. Each is idempotent and safe to run twice.

A step is a plain function (cycle_id, attempt) → rows; jobs.cycle chains them on RQ (or runs
them in-process when Redis is away) and jobs.runs records each execution.
"""
from __future__ import annotations

import datetime as dt

from db.config import get_settings
from db.session import unit_of_work
from jobs.runs import tracked
from jobs.sources import demo, sync


def sync_sources(cycle_id: str, attempt: int | None = None) -> int:
    """Pull the demo and every active API source up to now; each commits whole or not at all.

    Sources are isolated: each gets its own sync_run row (source=<name>), lease and transaction,
    and one failing — or needing re-authorisation — never stops the others; its reason is on the
    source row and in sync_run. The step itself fails, so RQ retries it, only when every source
    failed: that points at something shared (database, network) rather than one platform, and a
    retry re-syncs the healthy ones harmlessly since syncs are idempotent.
    """
    settings = get_settings()
    now = dt.datetime.now(dt.timezone.utc)
    demo_error: Exception | None = None
    rows = 0
    try:
        with tracked("sync", cycle_id, source="demo", attempt=attempt) as run:
            with unit_of_work() as conn:
                run.rows = demo.sync(conn, now, settings.reporting_currency)
        rows += run.rows
    except Exception as exc:  # recorded by `tracked`; the API sources still run
        demo_error = exc
    outcomes = sync.sync_all(now, cycle_id=cycle_id, attempt=attempt)
    rows += sum(outcome.rows for outcome in outcomes)
    if demo_error is not None and all(outcome.failed for outcome in outcomes):
        raise demo_error  # every source failed (the demo is always one of them)
    return rows
