"""Command line: `python -m jobs {upgrade,demo,cycle,up,loop}`.

`up` is what the README's run command calls: migrate, load demo data if the database is empty,
catch up to the current hour, then start web + worker + scheduler under honcho.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from db.config import PROJECT_ROOT, get_settings

log = logging.getLogger("demetra")


def cmd_upgrade(_: argparse.Namespace) -> int:
    from db.migrate import upgrade

    upgrade()
    log.info("schema is at the latest migration (%s)", _safe_url())
    return 0


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().sqlalchemy_url).render_as_string(hide_password=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from db.session import unit_of_work
    from jobs.sources import demo

    started = time.perf_counter()
    end = dt.date.fromisoformat(args.end_date) if args.end_date else None
    with unit_of_work() as conn:
        rows = demo.load_demo(conn, days=args.days, seed=args.seed, scale=args.scale,
                              reporting_currency=get_settings().reporting_currency, end_date=end)
    log.info("demo data loaded: %d ad-day rows (%d days, seed %d, scale %.2f) in %.1fs",
             rows, args.days, args.seed, args.scale, time.perf_counter() - started)
    return 0


def cmd_cycle(_: argparse.Namespace) -> int:
    from jobs.cycle import run_inline

    done = run_inline()
    log.info("cycle finished: %s", done)
    return 0


def cmd_loop(_: argparse.Namespace) -> int:
    """The in-process stand-in for worker + scheduler when Redis is not reachable."""
    from croniter import croniter

    from jobs.cycle import run_inline

    log.warning("Redis is not reachable: running the hourly cycle IN-PROCESS (no RQ worker, no retries "
                "across restarts). Start Redis and restart to use the queue.")
    schedule = croniter(get_settings().cycle_cron, dt.datetime.now(dt.timezone.utc))
    while True:
        nxt = schedule.get_next(dt.datetime)
        time.sleep(max(0.0, (nxt - dt.datetime.now(dt.timezone.utc)).total_seconds()))
        try:
            run_inline()
        except Exception:  # recorded in sync_run by jobs.runs; keep the loop alive for the next hour
            log.exception("hourly cycle failed")


def cmd_fx_import(args: argparse.Namespace) -> int:
    """Daily FX from an ECB-style CSV (Date,USD,RUB,... per EUR), converted to the reporting currency."""
    from db.session import unit_of_work
    from jobs.sources.fx import import_ecb_csv

    data = Path(args.file).read_bytes()
    with unit_of_work() as conn:
        rows = import_ecb_csv(conn, data, get_settings().reporting_currency)
    log.info("FX rates imported: %d rows from %s", rows, args.file)
    return 0


def cmd_lift_import(args: argparse.Namespace) -> int:
    """Lift-test results from a CSV/XLSX; the next hourly fit_curves calibrates on them."""
    from db.ingest import IngestError, ingest_lift_tests
    from db.session import unit_of_work
    from jobs.sources.lift import read_lift_tests
    from jobs.sources.upload import UploadError

    path = Path(args.file)
    try:
        tests = read_lift_tests(path.read_bytes(), path.name)
        with unit_of_work() as conn:
            rows = ingest_lift_tests(conn, tests, get_settings().reporting_currency,
                                     source=f"file {path.name}")
    except (IngestError, UploadError, OSError) as error:
        log.error("lift tests not imported (nothing was written): %s", error)
        return 2
    log.info("lift tests imported: %d rows from %s", rows, args.file)
    return 0


def _database_is_empty() -> bool:
    from db.queries import date_bounds

    return date_bounds()[1] is None


def cmd_up(args: argparse.Namespace) -> int:
    from jobs.queue import redis_connection

    cmd_upgrade(args)
    settings = get_settings()
    if _database_is_empty():
        log.info("empty database: loading %d days of demo data", settings.demo_days)
        cmd_demo(argparse.Namespace(days=settings.demo_days, seed=settings.demo_seed,
                                    scale=settings.demo_scale, end_date=None))
    from jobs.cycle import run_inline

    try:
        run_inline(retries=0)  # catch up to the current hour before the first page view
    except Exception:  # recorded in sync_run; the pages still serve what is stored, the hourly cycle retries
        log.exception("the catch-up cycle failed; starting anyway")
    port = os.environ.setdefault("PORT", "8050")
    procfile = "Procfile" if redis_connection() is not None else "Procfile.local"
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")  # gunicorn, rq for honcho
    honcho = shutil.which("honcho", path=bindir) or "honcho"
    log.info("DEMETRA is starting at http://127.0.0.1:%s  (processes from %s)", port, procfile)
    os.environ.setdefault("REDIS_URL", settings.redis_url)
    return subprocess.call([honcho, "-f", str(PROJECT_ROOT / procfile), "-d", str(PROJECT_ROOT), "start"])


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m jobs", description="DEMETRA jobs and set-up")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("upgrade", help="apply database migrations").set_defaults(fn=cmd_upgrade)
    demo = sub.add_parser("demo", help="load simulated demo data")
    settings = get_settings()
    demo.add_argument("--days", type=int, default=settings.demo_days)
    demo.add_argument("--seed", type=int, default=settings.demo_seed)
    demo.add_argument("--scale", type=float, default=settings.demo_scale)
    demo.add_argument("--end-date", default=None, help="last day (ISO); default yesterday")
    demo.set_defaults(fn=cmd_demo)
    sub.add_parser("cycle", help="run one hourly cycle in this process").set_defaults(fn=cmd_cycle)
    fx = sub.add_parser("fx-import", help="import daily FX rates from an ECB-style CSV")
    fx.add_argument("file")
    fx.set_defaults(fn=cmd_fx_import)
    lift = sub.add_parser("lift-import", help="import lift-test results (CSV/XLSX) that "
                                              "calibrate the response curves")
    lift.add_argument("file")
    lift.set_defaults(fn=cmd_lift_import)
    sub.add_parser("loop", help="run the hourly cycle in-process (no Redis)").set_defaults(fn=cmd_loop)
    sub.add_parser("up", help="migrate, load demo data if empty, start web + worker + scheduler").set_defaults(fn=cmd_up)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
