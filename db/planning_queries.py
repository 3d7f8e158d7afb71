"""The SQL behind planning: the business's own outcome, stored curves and forecasts.

The hourly planning steps (jobs.planning_tasks) write one artefact per run; the Budget and
Forecast pages read the newest one of its kind. A new run deletes all but the `KEEP` newest
runs of its kind in the same transaction: the previous one stays readable for a page that has
just read its id, and the tables do not grow by a forecast per hour.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Float, cast, delete, insert, select
from sqlalchemy.engine import Connection

from db import models as m
from db.queries import Bind, connect
from db.upsert import upsert_frame

CURVES, FORECAST, RECOMMENDATIONS = "curves", "forecast", "recommendations"
OK, INSUFFICIENT = "ok", "insufficient"
KEEP = 2
FORECAST_COLUMNS = ("mean", "lo80", "hi80", "lo95", "hi95")
#: The channel name under which the forecast of all channels' total is stored.
ALL_CHANNELS = "all"


def outcome_daily(bind: Bind, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """[date, conversions, revenue] of the business's own totals, revenue in the reporting
    currency; only the days the business reported (a missing day is unknown, not zero)."""
    o = m.OutcomeDaily
    q = (select(o.date, cast(o.conversions, Float), cast(o.revenue_rc, Float))
         .where(o.date >= date_from, o.date <= date_to).order_by(o.date))
    with connect(bind) as conn:
        frame = pd.DataFrame(conn.execute(q).all(), columns=["date", "conversions", "revenue"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def lift_tests(bind: Bind, metric: str | None = None) -> pd.DataFrame:
    """[channel, date_from, date_to, metric, lift, standard_error, spend, source] of every
    stored lift test (optionally one metric), oldest window first."""
    t = m.LiftTest
    q = select(t.platform, t.date_from, t.date_to, t.metric, t.lift, t.standard_error,
               t.spend_rc, t.source).order_by(t.date_from, t.platform, t.metric)
    if metric is not None:
        q = q.where(t.metric == metric)
    with connect(bind) as conn:
        frame = pd.DataFrame(conn.execute(q).all(),
                             columns=["channel", "date_from", "date_to", "metric", "lift",
                                      "standard_error", "spend", "source"])
    for column in ("date_from", "date_to"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


@dataclass(frozen=True)
class Artefact:
    """A planning run without its payload (which only the Budget page loads)."""

    id: int
    kind: str
    status: str
    data_version: str
    created_at: dt.datetime
    date_from: dt.date | None
    date_to: dt.date | None
    summary: dict[str, Any]


_COLUMNS = (m.PlanningArtefact.id, m.PlanningArtefact.kind, m.PlanningArtefact.status,
            m.PlanningArtefact.data_version, m.PlanningArtefact.created_at,
            m.PlanningArtefact.date_from, m.PlanningArtefact.date_to, m.PlanningArtefact.summary)


def latest(bind: Bind, kind: str) -> Artefact | None:
    """The newest run of `kind`, None before the first one."""
    q = select(*_COLUMNS).where(m.PlanningArtefact.kind == kind).order_by(
        m.PlanningArtefact.id.desc()).limit(1)
    with connect(bind) as conn:
        row = conn.execute(q).first()
    if row is None:
        return None
    id_, kind_, status, version, created, date_from, date_to, summary = row
    if created.tzinfo is None:  # SQLite keeps no zone; every time written here is UTC
        created = created.replace(tzinfo=dt.timezone.utc)
    return Artefact(id_, kind_, status, version, created, date_from, date_to, json.loads(summary))


def payload(bind: Bind, artefact_id: int) -> bytes | None:
    with connect(bind) as conn:
        return conn.execute(select(m.PlanningArtefact.payload)
                            .where(m.PlanningArtefact.id == artefact_id)).scalar()


def save_artefact(conn: Connection, *, kind: str, status: str, data_version: str,
                  summary: dict[str, Any], date_from: dt.date | None = None,
                  date_to: dt.date | None = None, payload: bytes | None = None) -> int:
    """Add a run of `kind` and prune older ones (flush only; the caller's unit of work commits)."""
    new_id = conn.execute(insert(m.PlanningArtefact).values(
        kind=kind, status=status, data_version=data_version,
        created_at=dt.datetime.now(dt.timezone.utc), date_from=date_from, date_to=date_to,
        payload=payload, summary=json.dumps(summary, default=str),
    ).returning(m.PlanningArtefact.id)).scalar_one()
    kept = select(m.PlanningArtefact.id).where(m.PlanningArtefact.kind == kind).order_by(
        m.PlanningArtefact.id.desc()).limit(KEEP)
    old = [r[0] for r in conn.execute(select(m.PlanningArtefact.id).where(
        m.PlanningArtefact.kind == kind, m.PlanningArtefact.id.not_in(kept)))]
    if old:
        conn.execute(delete(m.PlanningForecast).where(m.PlanningForecast.artefact_id.in_(old)))
        conn.execute(delete(m.PlanningArtefact).where(m.PlanningArtefact.id.in_(old)))
    return new_id


def write_forecast(conn: Connection, artefact_id: int, frame: pd.DataFrame) -> int:
    """Store [channel, metric, date, mean, lo80, hi80, lo95, hi95] rows under a run."""
    rows = frame[["channel", "metric", "date", *FORECAST_COLUMNS]].copy()
    rows["date"] = pd.to_datetime(rows["date"]).dt.date
    rows["artefact_id"] = artefact_id
    return upsert_frame(conn, m.PlanningForecast.__table__, rows,
                        key=["artefact_id", "channel", "metric", "date"])


def forecast(bind: Bind, artefact_id: int, channel: str, metric: str) -> pd.DataFrame:
    """One series of a stored forecast: [date, mean, lo80, hi80, lo95, hi95] by date."""
    f = m.PlanningForecast
    q = (select(f.date, *[getattr(f, c) for c in FORECAST_COLUMNS])
         .where(f.artefact_id == artefact_id, f.channel == channel, f.metric == metric)
         .order_by(f.date))
    with connect(bind) as conn:
        frame = pd.DataFrame(conn.execute(q).all(), columns=["date", *FORECAST_COLUMNS])
    frame["date"] = pd.to_datetime(frame["date"])
    frame[list(FORECAST_COLUMNS)] = frame[list(FORECAST_COLUMNS)].astype("float64")
    return frame


def forecast_channels(bind: Bind, artefact_id: int) -> list[str]:
    f = m.PlanningForecast
    with connect(bind) as conn:
        return [r[0] for r in conn.execute(select(f.channel).where(f.artefact_id == artefact_id)
                                           .distinct().order_by(f.channel))]


def campaign_labels(bind: Bind, campaign_ids: Sequence[int]) -> pd.DataFrame:
    """[campaign_id, campaign, channel] for naming campaigns in a comparison."""
    q = (select(m.Campaign.id, m.Campaign.name, m.Platform.slug)
         .join(m.Platform, m.Platform.id == m.Campaign.platform_id)
         .where(m.Campaign.id.in_([int(c) for c in campaign_ids])))
    with connect(bind) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["campaign_id", "campaign", "channel"])
