"""Time the hourly model steps end to end on the demo data in a throwaway SQLite database.

    .venv/bin/python bench/bench_scoring.py               # demo scale 1: ~48 campaigns, a year
    .venv/bin/python bench/bench_scoring.py --scale 10    # ~10x the campaigns

"retrain" is the whole step as the worker runs it: SQL for the campaign-day frame, train() with
its validation and refit, the comparison with the active model and the registry write; "score"
reads the last 28 days (plus a week of history), predicts, explains every campaign-day with
TreeSHAP, aggregates per campaign and writes the scores in one transaction. The page reads
are what the Explain page does on a cache miss.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# XGBoost's idle OpenMP threads spin; see bench_roi_model.py. Must be set before xgboost loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def timed(label: str, fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"{label:<34} {time.perf_counter() - started:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="demetra-bench-scoring-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.db'}"

    import pandas as pd
    from sqlalchemy import func, select

    from db import model_queries as mq
    from db import models as m
    from db.migrate import upgrade
    from db.session import get_engine, unit_of_work
    from jobs import modeling_tasks
    from jobs.sources import demo
    from modeling import roi_model
    from modeling.explain_text import drivers

    upgrade()

    def load() -> int:
        with unit_of_work() as conn:
            return demo.load_demo(conn, days=args.days, seed=args.seed, scale=args.scale,
                                  reporting_currency="USD")

    rows = timed(f"load demo (scale {args.scale:g}, {args.days} days)", load)
    with get_engine().connect() as conn:
        campaigns = conn.execute(select(func.count()).select_from(m.Campaign)).scalar()
    print(f"   {rows:,} ad-day rows, {campaigns} campaigns")

    config = modeling_tasks.ModelJobConfig()
    trained = timed("retrain (first model)", modeling_tasks.retrain, "bench", attempt=1)
    active = mq.active_model(None, config.target)
    print(f"   {trained:,} campaign-days, v{active.version} {active.status}: {active.card['verdict']}")
    timed("retrain (data unchanged: skip)", modeling_tasks.retrain, "bench-2", attempt=1)
    scored = timed("score all campaigns (+ SHAP)", modeling_tasks.score, "bench", attempt=1)
    print(f"   {scored} campaigns scored")

    stamp = timed("page: score stamp", mq.score_stamp, None, config.target)
    frame = timed("page: stored scores (parse JSON)", mq.scores, None, stamp[0])
    row = frame.loc[frame["spend"].idxmax()]

    def words() -> list[str]:
        model = roi_model.from_bytes(mq.model_artefact(None, stamp[0]))
        return drivers(model, pd.Series(row["features"], dtype=object),
                       pd.Series(row["shap"], dtype="float64"))

    sentences = timed("page: drivers for one campaign", words)
    print(f"   {row['campaign']}: predicted ROI {row['prediction']:.2f} "
          f"[{row['lo']:.2f}, {row['hi']:.2f}], actual {row['actual']:.2f}")
    for sentence in sentences:
        print("     ", sentence)
    print(f"(database: {workdir / 'bench.db'})")


if __name__ == "__main__":
    main()
