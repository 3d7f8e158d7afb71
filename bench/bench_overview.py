"""Load N ad-day rows into PostgreSQL, then time the overview callbacks server-side.

    .venv/bin/python bench/bench_overview.py --rows 1000000
    .venv/bin/python bench/bench_overview.py --rows 10000000
    .venv/bin/python bench/bench_overview.py --rows 1000000 --breakdowns

With ``--breakdowns`` the first copy's hour-of-day, audience and organic-post facts are loaded
too, and the Audience page's callbacks (who responds, best time) are timed as well.

Each callback is called through Dash's own HTTP endpoint (/_dash-update-component) with the
cache off and a different filter every call, so the figure is the uncached server-side time:
SQL + pandas + figure/JSON building.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/demetra_bench"


def prepare_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--url", default=os.environ.get("DEMETRA_BENCH_PG_URL", DEFAULT_URL))
    parser.add_argument("--breakdowns", action="store_true",
                        help="also load hourly/audience/post facts and time the Audience page")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.url
    os.environ["DEMETRA_CACHE"] = "off"

    from db.migrate import upgrade
    from db.session import get_engine, unit_of_work
    from jobs.sources import demo
    from modeling.simulator import SimConfig, simulate

    prepare_database(args.url)
    upgrade()
    # Above ~1M rows the simulator's hourly/audience tables outgrow memory, so larger loads are
    # copies of a ~1M-row simulation under other account ids (each copy one transaction).
    per_copy = min(args.rows, 1_000_000)
    copies = -(-args.rows // per_copy)
    probe = simulate(SimConfig(seed=1, days=args.days, scale=1.0))
    scale = per_copy / max(1, len(probe.daily))
    t0 = time.perf_counter()
    sim = simulate(SimConfig(seed=1, days=args.days, scale=scale))
    t_gen = time.perf_counter() - t0
    daily = demo.unified_daily(sim)
    rows, t_load = 0, 0.0
    from db import ingest

    with unit_of_work() as conn:
        ingest.ingest_fx(conn, demo.fx_in_reporting(sim, "USD"))
    for copy in range(copies):
        frame = daily if copy == 0 else daily.assign(account_id=daily["account_id"] + f"-copy{copy}")
        t0 = time.perf_counter()
        with unit_of_work() as conn:
            rows += ingest.ingest_ad_daily(conn, frame, "USD")
        t_load += time.perf_counter() - t0
    print(f"rows: {rows:,} ad-day facts ({copies} × {len(daily):,}, scale {scale:.2f}); simulated in {t_gen:.1f}s; "
          f"loaded into PostgreSQL (upsert + rollup, one transaction per {len(daily):,}) in {t_load:.1f}s "
          f"({rows / t_load:,.0f} rows/s)")
    if args.breakdowns:
        t0 = time.perf_counter()
        with unit_of_work() as conn:
            hourly = ingest.ingest_hourly(conn, demo.unified_by_campaign(sim.hourly, sim), "USD")
            audience = ingest.ingest_audience(conn, demo.unified_by_campaign(sim.audience, sim), "USD")
            posts = ingest.ingest_posts(conn, sim.organic_posts)
        print(f"breakdowns: {hourly:,} campaign-hour, {audience:,} audience and {posts:,} post rows loaded in "
              f"{time.perf_counter() - t0:.1f}s")

    from dashboard.app import create_app
    from dashboard.state import ViewState

    app = create_app()
    client = app.server.test_client()
    client.get("/")
    channels = list(sim.accounts["platform"].unique())
    periods = ["7d", "28d", "90d", "mtd", "qtd", "ytd", "365d"]
    last = sim.daily["date"].max().date()
    rnd = random.Random(0)

    def store() -> dict:
        picked = tuple(sorted(rnd.sample(channels, rnd.randint(1, len(channels))))) if rnd.random() < 0.6 else ()
        state = ViewState(period=rnd.choice(periods), compare=rnd.choice(["previous", "year"]), channels=picked,
                          currency=rnd.choice([None, None, "EUR", "RUB"]))
        return state.resolved(last).to_store()

    def call(output: str, outputs, inputs) -> float:
        body = {"output": output, "outputs": outputs, "inputs": inputs, "changedPropIds": [], "state": []}
        t = time.perf_counter()
        resp = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        elapsed = time.perf_counter() - t
        if resp.status_code not in (200, 204):
            raise RuntimeError(f"{output}: HTTP {resp.status_code} {resp.data[:300]!r}")
        return elapsed * 1000

    vs = lambda s: {"id": "view-state", "property": "data", "value": s}  # noqa: E731
    callbacks = {
        "kpi cards (10 KPIs + comparison)": lambda: call("ov-kpis.children", {"id": "ov-kpis", "property": "children"},
                                                         [vs(store())]),
        "growth chart": lambda: call("ov-growth.figure", {"id": "ov-growth", "property": "figure"},
                                     [vs(store()), {"id": "ov-metric", "property": "value",
                                                    "value": rnd.choice(["revenue", "roas", "cpl", "spend"])},
                                      {"id": "ov-interval", "property": "value",
                                       "value": rnd.choice(["day", "week", "month"])}]),
        "donut + channel table": lambda: call(
            "..ov-donut.figure...ov-table.children..",
            [{"id": "ov-donut", "property": "figure"}, {"id": "ov-table", "property": "children"}], [vs(store())]),
    }
    if args.breakdowns:
        value = lambda i, v: {"id": i, "property": "value", "value": v}  # noqa: E731
        callbacks["audience: who responds"] = lambda: call(
            "..aud-chart.figure...aud-table.children..",
            [{"id": "aud-chart", "property": "figure"}, {"id": "aud-table", "property": "children"}],
            [vs(store()), value("aud-by", rnd.choice(["age_band", "gender", "age_gender", "geo", "segment"])),
             value("aud-metric", rnd.choice(["cpa", "ctr", "roas", "spend"]))])
        callbacks["audience: best time (ads)"] = lambda: call(
            "..aud-time-summary.children...aud-heatmap.figure...aud-time-table.children...aud-time-note.children..",
            [{"id": i, "property": p} for i, p in (("aud-time-summary", "children"), ("aud-heatmap", "figure"),
                                                   ("aud-time-table", "children"), ("aud-time-note", "children"))],
            [vs(store()), value("aud-source", "hourly"), value("aud-time-metric", rnd.choice(["ctr", "cr", "cpa"])),
             value("aud-channel", rnd.choice(["all", "facebook", "instagram", "tiktok"]))])
    print(f"{'callback':36s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for name, fn in callbacks.items():
        fn()  # warm-up (imports, pools)
        times = [fn() for _ in range(args.calls)]
        print(f"{name:36s} {statistics.median(times):8.1f} {percentile(times, 0.95):8.1f}")
    get_engine().dispose()


if __name__ == "__main__":
    main()
