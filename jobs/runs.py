"""The audit trail of the hourly cycle: each step's run recorded in its own transaction.

The record is written apart from the step's data transaction, so a step that fails and rolls
its data back still leaves a visible 'failed' row with the error.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rq import get_current_job
from sqlalchemy import insert, update

from db import models as m
from db.session import unit_of_work

log = logging.getLogger("demetra.jobs")


@dataclass
class RunHandle:
    id: int
    rows: int = 0


def current_attempt() -> int:
    """1 for the first execution; RQ retries count up from there."""
    job = get_current_job()
    if job is None or job.retries_left is None or "max_retries" not in job.meta:
        return 1
    return int(job.meta["max_retries"]) - job.retries_left + 1


@contextmanager
def tracked(step: str, cycle_id: str, source: str | None = None, attempt: int | None = None) -> Iterator[RunHandle]:
    attempt = attempt or current_attempt()
    started = time.perf_counter()
    with unit_of_work() as conn:
        run_id = conn.execute(insert(m.SyncRun).values(
            cycle_id=cycle_id, step=step, source=source, status="running", attempt=attempt,
            started_at=dt.datetime.now(dt.timezone.utc)).returning(m.SyncRun.id)).scalar_one()
    handle = RunHandle(run_id)
    log.info("cycle %s: step %s started (attempt %d)", cycle_id, step, attempt)
    try:
        yield handle
    except Exception as exc:
        _finish(handle, started, "failed", f"{type(exc).__name__}: {exc}")
        log.error("cycle %s: step %s failed (attempt %d): %s\n%s", cycle_id, step, attempt, exc,
                  traceback.format_exc())
        raise
    _finish(handle, started, "ok", None)
    log.info("cycle %s: step %s ok, %d rows in %.2fs", cycle_id, step, handle.rows, time.perf_counter() - started)


def _finish(handle: RunHandle, started: float, status: str, error: str | None) -> None:
    with unit_of_work() as conn:
        conn.execute(update(m.SyncRun).where(m.SyncRun.id == handle.id).values(
            status=status, rows=handle.rows, error=error, finished_at=dt.datetime.now(dt.timezone.utc),
            duration_s=round(time.perf_counter() - started, 3)))
