"""Reads for the Audience page: who responds (age, gender, geo, segment) and when (hour × weekday).

The rules of db.queries hold here too: SQL does the summing, money comes from the *_rc columns
(the reporting currency) and is converted per day to a display currency with queries' own FX
helper, and every derived metric comes from db.metrics. Three sources:

* ``fact_audience_daily`` — the platforms' demographic breakdowns (date × campaign × age band ×
  gender × geo × segment). `audience` sums it by one dimension or by age × gender.
* ``fact_campaign_hourly`` — `hourly_cells`, one row per date × hour. Hour and date are the ad
  account's local clock, exactly as the platforms report them: Meta's advertiser time zone
  (``hourly_stats_aggregated_by_advertiser_time_zone``), Google Ads' customer time zone
  (``segments.hour``), TikTok's advertiser time zone (``stat_time_hour``), Telegram's export
  stamps taken at face value; VK Ads and Yandex Direct report no hours. They are not converted —
  the stamps carry no offset, and 20:00 in an account's zone is 20:00 where its audience lives,
  which is the clock ad schedules are set in — so accounts in different zones share a cell by
  *local* hour. The demo follows the same convention (its daypart profiles are account-local).
* ``organic_post`` — `post_cells`, by local date and hour of publication in a stated time zone
  (the reporting time zone unless told otherwise). ``published_at`` is an instant, so this
  conversion is exact, daylight-saving changes included.

Hour × weekday reads keep the date: the timing analysis (modeling.timing) resamples days, and a
date × hour grid is still only 24 rows a day.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Float, and_, cast, extract, func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from db import metrics as mx
from db import models as m
from db.config import get_settings
from db.filters import Filters
from db.queries import Bind, _display_rates, _where, connect

#: Breakdown choices → the audience fact's columns they group by.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "age_band": ("age_band",), "gender": ("gender",), "age_gender": ("age_band", "gender"),
    "geo": ("geo",), "segment": ("segment",),
}
#: What the hourly and audience facts store (neither has reach nor video views).
STORED = ("spend_rc", "revenue_rc", "impressions", "clicks", "leads", "conversions", "engagements")
MEASURES: tuple[str, ...] = tuple(c.removesuffix("_rc") for c in STORED)
#: Registry metrics these facts can give: every one whose inputs they store.
METRICS: tuple[str, ...] = tuple(s for s, metric in mx.METRICS.items() if set(metric.inputs) <= set(MEASURES))
POST_MEASURES: tuple[str, ...] = ("posts", "views", "engagement")
#: Posts are bucketed by UTC quarter-hour in SQL: every time zone's offset is a whole number of
#: quarter-hours (Nepal's +5:45 included), so each bucket falls in exactly one local hour.
_QUARTER = 900


def _sums(conn: Connection, table, f: Filters, keys: dict[str, ColumnElement]) -> pd.DataFrame:
    """Σ measures per `keys` (name → SQL expression), money in the reporting currency."""
    q = select(*[e.label(k) for k, e in keys.items()],
               *[cast(func.sum(getattr(table, c)), Float) for c in STORED])
    if f.channels or "channel" in keys:
        q = q.join(m.Platform, m.Platform.id == table.platform_id)
    q = q.where(and_(*_where(table, f))).group_by(*keys.values())
    frame = pd.DataFrame(conn.execute(q).cursor.fetchall(), columns=[*keys, *MEASURES])
    frame[list(MEASURES)] = frame[list(MEASURES)].astype("float64").fillna(0.0)
    return frame


def _per_day(f: Filters) -> bool:
    """A display currency other than the reporting one needs each day's FX rate."""
    return (f.currency or get_settings().reporting_currency) != get_settings().reporting_currency


def _in_display(conn: Connection, frame: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """Money of per-day rows converted to the display currency (as queries.aggregate does)."""
    if not _per_day(f) or frame.empty:
        return frame
    rates = _display_rates(conn, f.currency, f.date_from, f.date_to)
    per_row = rates.reindex(pd.to_datetime(frame["date"])).to_numpy()
    return frame.assign(**{c: frame[c] / per_row for c in mx.MONEY_MEASURES})


def audience(bind: Bind, f: Filters, by: str = "age_band") -> pd.DataFrame:
    """Sums and every metric the facts allow (METRICS) per group of `by` (a DIMENSIONS key).

    Only platforms that report demographics contribute (see each connector's capabilities): the
    totals here can be below the overview's when some channels report none.
    """
    dims = list(DIMENSIONS[by])
    t = m.FactAudienceDaily if f.campaign_ids else m.AggAudience  # the rollup has no campaigns
    per_day = _per_day(f)
    keys = {**({"date": t.date} if per_day else {}), **{d: getattr(t, d) for d in dims}}
    with connect(bind) as conn:
        frame = _in_display(conn, _sums(conn, t, f, keys), f)
    if per_day:
        frame = frame.groupby(dims, as_index=False)[list(MEASURES)].sum()
    if frame.empty:
        return pd.DataFrame(columns=[*dims, *METRICS])
    return mx.add_metrics(frame.sort_values(dims, ignore_index=True), list(METRICS))


def _with_weekday(frame: pd.DataFrame) -> pd.DataFrame:
    frame["date"] = pd.to_datetime(frame["date"])
    frame.insert(1, "weekday", frame["date"].dt.dayofweek)
    return frame


def hourly_cells(bind: Bind, f: Filters, by_channel: bool = False) -> pd.DataFrame:
    """Base measures per account-local date × hour [date, weekday (0 = Monday), hour, (channel),
    measures…], money in the display currency. Summed over the filters' channels unless
    `by_channel` (a year of seven channels is ~60k rows: ask per channel when one will do)."""
    t = m.FactHourly if f.campaign_ids else m.AggHourly  # the rollup has no campaigns
    keys = {"date": t.date, "hour": t.hour, **({"channel": m.Platform.slug} if by_channel else {})}
    with connect(bind) as conn:
        frame = _in_display(conn, _sums(conn, t, f, keys), f)
    return _with_weekday(frame)


def _epoch(day: dt.date, zone: ZoneInfo) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=zone).timestamp())


def post_cells(bind: Bind, f: Filters, tz: str | None = None, by_channel: bool = False) -> pd.DataFrame:
    """Organic posts per local date × hour of publication in `tz` (default: the reporting time
    zone): [date, weekday (0 = Monday), hour, (channel), posts, views, engagement], engagement =
    reactions + shares + comments. The window is the filters' dates in that zone; account,
    campaign and currency filters do not apply to posts."""
    zone = ZoneInfo(tz or get_settings().reporting_timezone)
    p = m.OrganicPost
    epoch = extract("epoch", p.published_at)  # SQLite: strftime('%s'), PostgreSQL: EXTRACT(epoch)
    bucket = (epoch - epoch % literal_column(str(_QUARTER))).label("bucket")
    group = [bucket, *([m.Platform.slug.label("channel")] if by_channel else [])]
    q = (select(*group, cast(func.count(), Float), cast(func.sum(p.views), Float),
                cast(func.sum(p.reactions + p.shares + p.comments), Float))
         .join(m.Platform, m.Platform.id == p.platform_id)
         .where(epoch >= _epoch(f.date_from, zone), epoch < _epoch(f.date_to + dt.timedelta(days=1), zone)))
    if f.channels:
        q = q.where(m.Platform.slug.in_(f.channels))
    keys = ["bucket", *(["channel"] if by_channel else [])]
    with connect(bind) as conn:
        rows = conn.execute(q.group_by(*group)).cursor.fetchall()
    frame = pd.DataFrame(rows, columns=[*keys, *POST_MEASURES])
    local = pd.to_datetime(frame["bucket"].astype("float64"), unit="s", utc=True).dt.tz_convert(zone)
    frame = frame.assign(date=local.dt.tz_localize(None).dt.normalize(), hour=local.dt.hour)
    out = ["date", "hour", *keys[1:]]
    frame = frame.groupby(out, as_index=False)[list(POST_MEASURES)].sum()
    return _with_weekday(frame.astype({"hour": "int64"}))


#: Where each source's channels are found: the rollups hold every platform their facts do, in fewer rows.
_SOURCES = {"audience": m.AggAudience, "hourly": m.AggHourly, "posts": m.OrganicPost}


def channels_with(bind: Bind, source: str) -> list[str]:
    """Slugs of the channels that have any audience / hourly / post rows (to say which do not)."""
    table = _SOURCES[source]
    q = select(m.Platform.slug).where(m.Platform.id.in_(select(table.platform_id).distinct()))
    with connect(bind) as conn:
        return sorted(r[0] for r in conn.execute(q))
