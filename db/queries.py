"""Every read the product makes: aggregated in SQL, filtered, returned as DataFrames.

Reads come from the date × account rollup unless a campaign filter forces the ad-day fact
table. SQL groups to date × channel (a few thousand rows at most); money is then converted to
the display currency per day and derived metrics are computed from sums via db.metrics.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Float, and_, cast, func, select
from sqlalchemy.engine import Connection

from db import metrics as mx
from db import models as m
from db.config import get_settings
from db.filters import Filters
from db.session import get_engine

Bind = Engine | Connection | None
GROUP_KEYS = {"channel": "channel", "campaign": "campaign_id", "account": "account_id", "ad": "ad_id"}
#: Groupings below the rollup's grain, which must read the ad-day fact table.
FACT_GRAINS = frozenset({"campaign", "ad"})
SUMMED = ("spend_rc", "revenue_rc", "impressions", "reach", "clicks", "leads", "conversions",
          "engagements", "video_views")


@contextmanager
def connect(bind: Bind = None) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
        return
    with (bind or get_engine()).connect() as conn:
        yield conn


def _where(table, f: Filters) -> list:
    conds = [table.date >= f.date_from, table.date <= f.date_to]
    if f.channels:
        conds.append(m.Platform.slug.in_(f.channels))
    if f.account_ids:
        conds.append(table.account_id.in_(f.account_ids))
    if f.campaign_ids:
        conds.append(table.campaign_id.in_(f.campaign_ids))
    return conds


def _display_rates(conn: Connection, currency: str, date_from: dt.date, date_to: dt.date) -> pd.Series:
    """Reporting-currency value of one unit of `currency`, per day, carried forward over gaps."""
    rows = conn.execute(
        select(m.FxRate.date, m.FxRate.rate).where(m.FxRate.currency == currency)
        .where(m.FxRate.date <= date_to).order_by(m.FxRate.date)
    ).all()
    if not rows:
        raise ValueError(f"no FX rates for {currency}")
    fx = pd.Series([r[1] for r in rows], index=pd.to_datetime([r[0] for r in rows]))
    days = pd.date_range(min(date_from, fx.index.min().date()), date_to, freq="D")
    return fx.reindex(days).ffill().bfill()


def aggregate(bind: Bind, f: Filters, by: str | None = "channel", per_day: bool = True) -> pd.DataFrame:
    """Base measures per (date and) group, money in the display currency.

    Without `per_day` SQL sums the whole window in one pass, unless a display currency other
    than the reporting one needs each day's FX rate — then days are summed in pandas after
    conversion, which is still only a few thousand rollup rows.
    """
    reporting = get_settings().reporting_currency
    currency = f.currency or reporting
    by_day = per_day or currency != reporting
    table = m.FactAdDaily if (f.campaign_ids or by in FACT_GRAINS) else m.AggChannelDaily
    group, label_cols = ([table.date], ["date"]) if by_day else ([], [])
    if by:
        group.append(m.Platform.slug if by == "channel" else getattr(table, GROUP_KEYS[by]))
        label_cols.append(GROUP_KEYS[by])
    # Sums come back as floats from SQL: converting Decimal objects in pandas costs more than the query.
    q = select(*group, *[cast(func.sum(getattr(table, c)), Float) for c in SUMMED])
    if f.channels or by == "channel":
        q = q.join(m.Platform, m.Platform.id == table.platform_id)
    q = q.where(and_(*_where(table, f)))
    if group:
        q = q.group_by(*group)
    with connect(bind) as conn:
        # Plain DB-API rows: nothing here needs SQLAlchemy's per-row result processing.
        frame = pd.DataFrame(conn.execute(q).cursor.fetchall(), columns=[*label_cols, *SUMMED])
        frame = frame.rename(columns={"spend_rc": "spend", "revenue_rc": "revenue"})
        frame[list(mx.BASE_MEASURES)] = frame[list(mx.BASE_MEASURES)].astype("float64").fillna(0.0)
        if by_day:
            frame["date"] = pd.to_datetime(frame["date"])
        if currency != reporting and not frame.empty:
            rates = _display_rates(conn, currency, f.date_from, f.date_to)
            per_row = rates.reindex(frame["date"]).to_numpy()
            frame["spend"] = frame["spend"] / per_row
            frame["revenue"] = frame["revenue"] / per_row
    if by_day and not per_day:
        keys = label_cols[1:]
        frame = (frame.groupby(keys, as_index=False)[list(mx.BASE_MEASURES)].sum() if keys
                 else frame[list(mx.BASE_MEASURES)].sum().to_frame().T)
    return frame


def daily_by(bind: Bind, f: Filters, by: str | None = "channel") -> pd.DataFrame:
    """Base measures per date (and per channel / campaign / account), in the display currency."""
    return aggregate(bind, f, by=by, per_day=True)


def totals(bind: Bind, f: Filters) -> dict[str, float]:
    frame = aggregate(bind, f, by=None, per_day=False)
    return {c: float(frame[c].sum()) if not frame.empty else 0.0 for c in mx.BASE_MEASURES}


def kpis(bind: Bind, f: Filters, slugs: Sequence[str] | None = None) -> dict[str, float]:
    return mx.compute_all(totals(bind, f), list(slugs or mx.METRICS))


def kpi_comparison(bind: Bind, f: Filters, comparison: str, slugs: Sequence[str]) -> pd.DataFrame:
    """One row per metric: value, previous value and relative change."""
    cur = kpis(bind, f, slugs)
    other = f.compared(comparison)
    prev = kpis(bind, other, slugs) if other else {s: np.nan for s in slugs}
    return pd.DataFrame({
        "metric": list(slugs),
        "value": [cur[s] for s in slugs],
        "previous": [prev[s] for s in slugs],
        "delta": [mx.delta_pct(cur[s], prev[s]) for s in slugs],
    })


_FREQ = {"day": "D", "week": "W", "month": "M"}


def timeseries(bind: Bind, f: Filters, metric: str, by: str | None = "channel",
               interval: str = "day") -> pd.DataFrame:
    """metric per period (and per channel): ratios recomputed from the period's sums.

    Weeks and months cut by the window's edges are flagged `partial`, so a chart can show that
    the dip at the end is a half-finished week rather than a collapse.
    """
    frame = daily_by(bind, f, by=by)
    keys = [GROUP_KEYS[by]] if by else []
    if frame.empty:
        return pd.DataFrame(columns=["date", *keys, metric, "partial"])
    frame["partial"] = False
    if interval != "day":
        period = frame["date"].dt.to_period(_FREQ[interval])
        frame["date"] = period.dt.start_time
        end = period.dt.end_time.dt.normalize()
        frame["partial"] = (frame["date"] < pd.Timestamp(f.date_from)) | (end > pd.Timestamp(f.date_to))
        frame = frame.groupby(["date", *keys], as_index=False).agg(
            {**{c: "sum" for c in mx.BASE_MEASURES}, "partial": "max"})
    frame[metric] = mx.get(metric).compute(frame)
    return frame[["date", *keys, metric, "partial"]].sort_values(["date", *keys]).reset_index(drop=True)


def breakdown(bind: Bind, f: Filters, by: str = "channel") -> pd.DataFrame:
    """Sums and every metric per channel / campaign for the window (tables, donuts)."""
    sums = aggregate(bind, f, by=by, per_day=False)
    if sums.empty:
        return pd.DataFrame(columns=[GROUP_KEYS[by], *mx.METRICS])
    return mx.add_metrics(sums)


def names(bind: Bind, level: str, ids: Sequence[int]) -> pd.DataFrame:
    """Display names for campaign or ad ids: [id, name, parent] (parent = channel / ad set)."""
    if level == "campaign":
        q = (select(m.Campaign.id, m.Campaign.name, m.Platform.slug)
             .join(m.Platform, m.Platform.id == m.Campaign.platform_id).where(m.Campaign.id.in_(list(ids))))
    elif level == "ad":
        q = (select(m.Ad.id, m.Ad.name, m.AdSet.name).join(m.AdSet, m.AdSet.id == m.Ad.ad_set_id)
             .where(m.Ad.id.in_(list(ids))))
    else:
        raise ValueError(f"no names for level {level!r}")
    with connect(bind) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["id", "name", "parent"])


def channels(bind: Bind = None) -> pd.DataFrame:
    """Channels that have data, for filter options."""
    q = (select(m.Platform.slug, m.Platform.name)
         .where(m.Platform.id.in_(select(m.AdAccount.platform_id))).order_by(m.Platform.name))
    with connect(bind) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["slug", "name"])


def currencies(bind: Bind = None) -> list[str]:
    with connect(bind) as conn:
        found = [r[0] for r in conn.execute(select(m.FxRate.currency).distinct())]
    return sorted(set(found) | {get_settings().reporting_currency})


def date_bounds(bind: Bind = None) -> tuple[dt.date | None, dt.date | None]:
    with connect(bind) as conn:
        lo, hi = conn.execute(select(func.min(m.AggChannelDaily.date), func.max(m.AggChannelDaily.date))).one()
    return lo, hi


def data_version(bind: Bind = None) -> str:
    with connect(bind) as conn:
        v = conn.execute(select(m.AppState.value).where(m.AppState.key == "data_version")).scalar()
    return v or "empty"


def last_runs(bind: Bind = None, limit: int = 20) -> pd.DataFrame:
    cols = ["id", "cycle_id", "step", "source", "status", "attempt", "rows", "started_at", "finished_at",
            "duration_s", "error"]
    with connect(bind) as conn:
        rows = conn.execute(select(*[getattr(m.SyncRun, c) for c in cols]).order_by(m.SyncRun.id.desc())
                            .limit(limit)).all()
    return pd.DataFrame(rows, columns=cols)
