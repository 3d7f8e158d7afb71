"""The read-only JSON API (/api/v1) and /healthz, on the same metric functions as the pages.

Stable for spreadsheets and BI tools: keys are the metric registry's slugs.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dashboard import data
from db import metrics as mx
from db import queries
from db.config import get_settings
from db.filters import Filters
from db.session import get_engine

api = Blueprint("api", __name__)


class BadRequest(ValueError):
    pass


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _date(name: str, default: dt.date) -> dt.date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO date (YYYY-MM-DD), got {raw!r}") from None


def _filters() -> Filters:
    last = data.last_day() or dt.date.today()
    date_to = _date("date_to", last)
    date_from = _date("date_from", date_to - dt.timedelta(days=27))
    if date_from > date_to:
        raise BadRequest("date_from is after date_to")
    if (date_to - date_from).days > 3660:
        raise BadRequest("the range may span at most 10 years")
    channels = tuple(c for c in request.args.get("channels", "").split(",") if c)
    currency = request.args.get("currency", "").upper() or None
    if currency and currency not in data.available_currencies():
        raise BadRequest(f"unknown currency {currency!r}; known: {', '.join(data.available_currencies())}")
    return Filters(date_from, date_to, channels=channels, currency=currency)


def _metric_list(default: tuple[str, ...]) -> list[str]:
    raw = request.args.get("metrics")
    slugs = [s for s in raw.split(",") if s] if raw else list(default)
    unknown = [s for s in slugs if s not in mx.METRICS]
    if unknown:
        raise BadRequest(f"unknown metrics {unknown}; known: {', '.join(mx.METRICS)}")
    return slugs


def _describe(f: Filters) -> dict:
    return {"date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat(),
            "channels": list(f.channels), "currency": f.currency or get_settings().reporting_currency}


@api.errorhandler(BadRequest)
def _bad_request(exc: BadRequest):
    return jsonify(error=str(exc)), 400


@api.errorhandler(SQLAlchemyError)
def _db_error(_exc: SQLAlchemyError):
    return jsonify(error="the database is not reachable right now; try again shortly"), 503


@api.get("/api/v1/kpis")
def kpis():
    f = _filters()
    slugs = _metric_list(tuple(mx.METRICS))
    values = data.kpi_comparison(f, "off", tuple(slugs))
    return jsonify(filters=_describe(f), kpis={r.metric: _clean(float(r.value)) for r in values.itertuples()})


@api.get("/api/v1/timeseries")
def timeseries():
    f = _filters()
    slugs = _metric_list(("spend", "revenue", "roas"))
    by = request.args.get("by", "channel")
    if by not in ("channel", "total"):
        raise BadRequest("by must be 'channel' or 'total'")
    interval = request.args.get("interval", "day")
    if interval not in ("day", "week", "month"):
        raise BadRequest("interval must be day, week or month")
    rows: dict[tuple, dict] = {}
    for slug in slugs:
        series = data.timeseries(f, slug, "channel" if by == "channel" else None, interval)
        for rec in series.itertuples(index=False):
            key = (rec.date.date().isoformat(), getattr(rec, "channel", None))
            row = rows.setdefault(key, {"date": key[0], **({"channel": key[1]} if by == "channel" else {})})
            row[slug] = _clean(float(getattr(rec, slug)))
    return jsonify(filters=_describe(f), metrics=slugs, interval=interval, rows=list(rows.values()))


@api.get("/api/v1/metrics")
def metric_catalogue():
    return jsonify(metrics=[{"slug": m.slug, "label": m.label, "kind": m.kind, "higher_is_better": m.higher_is_better,
                             "description": m.description} for m in mx.METRICS.values()])


@api.get("/healthz")
def healthz():
    from jobs.queue import redis_connection

    report: dict[str, Any] = {}
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        report["database"] = {"ok": True, "dialect": get_engine().dialect.name}
    except SQLAlchemyError as exc:
        report["database"] = {"ok": False, "error": type(exc).__name__}
    redis = None
    try:
        redis = redis_connection(timeout=0.5)
    except Exception as exc:  # queue_mode=redis raises when Redis is down
        report["redis"] = {"ok": False, "error": type(exc).__name__}
    if "redis" not in report:
        report["redis"] = {"ok": redis is not None, "mode": "rq" if redis is not None else "in-process"}
    report["last_cycle"] = None
    if report["database"]["ok"]:
        runs = queries.last_runs(limit=1)
        if not runs.empty:
            r = runs.iloc[0]
            report["last_cycle"] = {"cycle_id": r.cycle_id, "step": r.step, "status": r.status,
                                    "started_at": str(r.started_at), "rows": int(r.rows), "error": r.error}
    ok = report["database"]["ok"] and (report["last_cycle"] is None or report["last_cycle"]["status"] != "failed")
    report["status"] = "ok" if ok else "degraded"
    return jsonify(report), 200 if report["database"]["ok"] else 503
