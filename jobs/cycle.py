"""The hourly cycle: sync → retrain → score (SHAP stored with the predictions) → fit_curves →
forecast → alerts → recommend.

On RQ each step is its own job depending on the previous one and retried with back-off, so a
failed step is retried, recorded, and stops the steps that need its output instead of letting
them run on stale data.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable

from rq import Retry
from rq.job import Job

from jobs import alert_tasks, modeling_tasks, planning_tasks, recommend_tasks, tasks
from jobs.queue import get_queue, redis_connection

log = logging.getLogger("demetra.jobs")

Step = Callable[..., int]
#: Order matters: each step reads what the previous one wrote.
STEPS: list[tuple[str, Step]] = [
    ("sync", tasks.sync_sources),
    ("retrain", modeling_tasks.retrain),
    ("score", modeling_tasks.score),
    ("fit_curves", planning_tasks.fit_curves),
    ("forecast", planning_tasks.forecast),
    ("alerts", alert_tasks.detect_alerts),
    ("recommend", recommend_tasks.recommend),
]
RETRY_INTERVALS = [30, 120, 300]


def new_cycle_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M") + "-" + uuid.uuid4().hex[:6]


def run_inline(cycle_id: str | None = None, retries: int = len(RETRY_INTERVALS),
               backoff: list[int] | None = None) -> dict[str, int]:
    """Run every step in this process, retrying each; raises after the last failed attempt."""
    cycle_id = cycle_id or new_cycle_id()
    waits = backoff if backoff is not None else RETRY_INTERVALS
    done: dict[str, int] = {}
    for name, step in STEPS:
        for attempt in range(1, retries + 2):
            try:
                done[name] = step(cycle_id, attempt=attempt)
                break
            except Exception:
                if attempt > retries:
                    raise
                time.sleep(waits[min(attempt - 1, len(waits) - 1)])
    return done


def enqueue(cycle_id: str | None = None) -> list[Job]:
    """Put the cycle's chain of jobs on the queue (each depends on the one before)."""
    conn = redis_connection()
    if conn is None:
        raise RuntimeError("Redis is not reachable; use run_inline")
    queue = get_queue(conn)
    cycle_id = cycle_id or new_cycle_id()
    jobs: list[Job] = []
    for name, step in STEPS:
        jobs.append(queue.enqueue(
            step, cycle_id, job_id=f"cycle-{cycle_id}-{name}", depends_on=jobs[-1] if jobs else None,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS), description=f"{name} ({cycle_id})",
            meta={"max_retries": len(RETRY_INTERVALS)},
        ))
    log.info("cycle %s enqueued: %s", cycle_id, " → ".join(n for n, _ in STEPS))
    return jobs


def start_cycle() -> str:
    """Entry point of the hourly cron job: enqueue the chain (the worker then runs it)."""
    cycle_id = new_cycle_id()
    enqueue(cycle_id)
    return cycle_id
