"""The hourly cycle: executed by a real `rq worker` process on the real Redis, retried on failure,
and never leaving a half-written window behind."""
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import models as m
from db.session import get_engine
from jobs import cycle, tasks
from jobs.queue import QUEUE_NAME, redis_connection
from jobs.sources import demo

ROOT = Path(__file__).resolve().parents[1]


def runs(cycle_id):
    with get_engine().connect() as c:
        return c.execute(select(m.SyncRun.step, m.SyncRun.status, m.SyncRun.attempt, m.SyncRun.rows,
                                m.SyncRun.error).where(m.SyncRun.cycle_id == cycle_id)
                         .order_by(m.SyncRun.id)).all()


def test_cycle_executed_by_a_real_rq_worker(demo_db):
    redis = redis_connection()
    assert redis is not None, "the test suite needs the real Redis"
    redis.flushdb()
    cycle_id = "test-" + dt.datetime.now().strftime("%H%M%S%f")
    jobs = cycle.enqueue(cycle_id)
    assert [j.get_status() for j in jobs][0] == "queued"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rq = Path(sys.executable).parent / "rq"
    done = subprocess.run([str(rq), "worker", QUEUE_NAME, "--burst", "--url", os.environ["REDIS_URL"]],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    recorded = runs(cycle_id)
    assert [(r.step, r.status) for r in recorded] == [(name, "ok") for name, _ in cycle.STEPS]
    assert recorded[0].rows > 0
    with get_engine().connect() as c:
        state = demo.read_state(c)
        latest = c.execute(select(func.max(m.FactAdDaily.date))).scalar()
    today = dt.datetime.now(dt.timezone.utc).date()
    assert state.synced_through == today
    hour = dt.datetime.now(dt.timezone.utc).hour
    assert latest == today or (hour == 0 and latest == today - dt.timedelta(days=1))  # the current partial day


def test_failed_step_is_recorded_and_retried(demo_db, monkeypatch):
    calls = {"n": 0}

    def flaky(cycle_id, attempt=None):
        from jobs.runs import tracked

        with tracked("flaky", cycle_id, attempt=attempt):
            calls["n"] += 1
            if calls["n"] == 1:
                raise ConnectionError("platform timed out")
        return 0

    monkeypatch.setattr(cycle, "STEPS", [("flaky", flaky)])
    cycle.run_inline("retry-test", backoff=[0])
    assert [(r.status, r.attempt) for r in runs("retry-test")] == [("failed", 1), ("ok", 2)]
    assert "platform timed out" in runs("retry-test")[0].error


def test_a_failing_sync_leaves_no_half_written_window(demo_db, monkeypatch):
    with get_engine().connect() as c:
        before = c.execute(select(func.count()).select_from(m.FactAdDaily)).scalar()
        state = demo.read_state(c)

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo.ingest, "ingest_audience", broken)  # fails after facts were upserted
    with get_engine().begin() as c:  # rewind the cursor so the sync has a window to write
        demo.save_state(c, demo.DemoState(state.seed, state.start_date, state.scale,
                                          state.synced_through - dt.timedelta(days=5)))
    with pytest.raises(RuntimeError, match="disk full"):
        tasks.sync_sources("broken-test", attempt=1)
    with get_engine().connect() as c:
        assert c.execute(select(func.count()).select_from(m.FactAdDaily)).scalar() == before
        assert demo.read_state(c).synced_through == state.synced_through - dt.timedelta(days=5)
    assert runs("broken-test")[0].status == "failed"
