"""The SQL behind alerts: replace a re-checked window, list alerts, dismiss one.

The hourly `alerts` step re-checks the last days every run (platforms restate them), so it
replaces the alerts of exactly that window in one transaction; an alert found again keeps its
id and a dismissal.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.engine import Connection

from db import models as m
from db.queries import Bind, connect
from db.upsert import upsert_frame

OPEN, DISMISSED = "open", "dismissed"
#: What modeling.anomaly.detect returns and the table stores (besides ids and status).
DETECTED = ("date", "channel", "campaign_id", "metric", "direction", "days", "observed", "expected",
            "lo", "hi", "score", "severity", "message")
LISTED = ("id", "date", "channel", "campaign_id", "campaign", "metric", "direction", "days", "observed",
          "expected", "lo", "hi", "score", "severity", "message", "status")


def replace_window(conn: Connection, found: pd.DataFrame, date_from: dt.date,
                   date_to: dt.date) -> int:
    """The alerts of [date_from, date_to] become `found`; returns the rows written.

    Alerts found again are updated in place — same id, status kept — so a page that loaded
    them before this run can still dismiss them; those not found again are deleted.
    """
    a = m.Alert
    rows = found.rename(columns={"channel": "platform"}).assign(
        date=pd.to_datetime(found["date"]).dt.date if not found.empty else [],
        campaign_id=found["campaign_id"].astype(int), status=OPEN,
        detected_at=dt.datetime.now(dt.timezone.utc))
    again = set(zip(rows["date"], rows["campaign_id"], rows["metric"]))
    existing = conn.execute(select(a.id, a.date, a.campaign_id, a.metric)
                            .where(a.date >= date_from, a.date <= date_to)).all()
    gone = [i for i, *key in existing if tuple(key) not in again]
    if gone:
        conn.execute(delete(a).where(a.id.in_(gone)))
    if rows.empty:
        return 0
    columns = ["platform", *[c for c in DETECTED if c != "channel"], "status", "detected_at"]
    return upsert_frame(conn, a.__table__, rows[columns], key=["date", "campaign_id", "metric"],
                        update=[c for c in columns if c != "status"])


def alerts(bind: Bind, date_from: dt.date, date_to: dt.date, channels: Sequence[str] = (),
           status: str | None = None) -> pd.DataFrame:
    """Alerts in the window, newest and most severe first, with campaign names."""
    a = m.Alert
    q = (_listed().where(a.date >= date_from, a.date <= date_to)
         .order_by(a.date.desc(), a.severity, func.abs(a.score).desc()))
    if channels:
        q = q.where(a.platform.in_(list(channels)))
    if status:
        q = q.where(a.status == status)
    return _frame(bind, q)


def _listed() -> Select:
    a = m.Alert
    return (select(a.id, a.date, a.platform, a.campaign_id, m.Campaign.name, a.metric, a.direction,
                   a.days, a.observed, a.expected, a.lo, a.hi, a.score, a.severity, a.message, a.status)
            .join(m.Campaign, m.Campaign.id == a.campaign_id, isouter=True))


def _frame(bind: Bind, q: Select) -> pd.DataFrame:
    with connect(bind) as conn:
        frame = pd.DataFrame(conn.execute(q).all(), columns=list(LISTED))
    frame["date"] = pd.to_datetime(frame["date"])
    frame["campaign"] = frame["campaign"].fillna("Campaign " + frame["campaign_id"].astype(str))
    return frame


def alert(bind: Bind, alert_id: int) -> pd.DataFrame:
    """One alert (an empty frame when it no longer exists)."""
    return _frame(bind, _listed().where(m.Alert.id == alert_id))


def set_status(conn: Connection, alert_id: int, status: str) -> bool:
    """Dismiss (or reopen) one alert; False when it no longer exists (replaced meanwhile)."""
    if status not in (OPEN, DISMISSED):
        raise ValueError(f"unknown alert status {status!r}")
    done = conn.execute(update(m.Alert).where(m.Alert.id == alert_id).values(status=status))
    return done.rowcount == 1
