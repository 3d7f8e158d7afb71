"""Turning unified rows into the star schema.

Every source (API connector, file upload, demo simulator) produces frames with the same
unified columns; this module resolves natural keys to surrogate ids, converts money to the
reporting currency with that day's FX rate, upserts facts and rebuilds the rollup for exactly the
touched window — all on the caller's connection, so one sync window commits as one unit.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection

from db import models as m
from db.upsert import upsert_frame

#: Placeholder ids when a source reports above ad level (e.g. campaign-level statistics).
CAMPAIGN_LEVEL = "(campaign)"

PLATFORM_NAMES = {
    "instagram": "Instagram",
    "facebook": "Facebook",
    "google_ads": "Google Ads",
    "tiktok": "TikTok",
    "telegram": "Telegram Ads",
    "yandex_direct": "Yandex.Direct",
    "vk_ads": "VK Ads",
}

FACT_MEASURES = ("spend", "impressions", "reach", "clicks", "leads", "conversions", "revenue",
                 "engagements", "video_views")


#: Loads at least this big refresh PostgreSQL's planner statistics before committing.
BULK_ROWS = 50_000


class IngestError(ValueError):
    """Data that cannot be stored as given; the message is meant for the person who sent it."""


def _fill(frame: pd.DataFrame, column: str, default: object) -> pd.Series:
    if column in frame:
        return frame[column].where(frame[column].notna(), default)
    return pd.Series(default, index=frame.index)


def ensure_platforms(conn: Connection, slugs: Iterable[str]) -> dict[str, int]:
    slugs = sorted(set(slugs))
    rows = pd.DataFrame({"slug": slugs, "name": [PLATFORM_NAMES.get(s, s.replace("_", " ").title())
                                                  for s in slugs]})
    upsert_frame(conn, m.Platform.__table__, rows, key=["slug"], update=[])
    found = conn.execute(select(m.Platform.slug, m.Platform.id)).all()
    return {slug: pid for slug, pid in found}


def _resolve(conn: Connection, table, frame: pd.DataFrame, key: list[str], attrs: list[str]) -> pd.DataFrame:
    """Upsert one dimension level and return its natural key → id mapping."""
    dims = frame[key + attrs].drop_duplicates(subset=key, keep="last")
    upsert_frame(conn, table, dims, key=key, update=[a for a in attrs if a in dims])
    cols = [table.c[k] for k in key] + [table.c.id]
    parent = key[0]
    ids = pd.DataFrame(
        conn.execute(select(*cols).where(table.c[parent].in_(dims[parent].unique().tolist()))).all(),
        columns=key + ["id"],
    )
    return ids


def resolve_dimensions(conn: Connection, rows: pd.DataFrame) -> pd.DataFrame:
    """Return `rows` with platform_id / account_pk / campaign_pk / ad_set_pk / ad_pk columns."""
    frame = rows.copy()
    for col in ("account_id", "campaign_id", "ad_set_id", "ad_id"):
        if col not in frame:
            frame[col] = None
    frame["ad_set_id"] = _fill(frame, "ad_set_id", CAMPAIGN_LEVEL).astype(str)
    frame["ad_id"] = _fill(frame, "ad_id", CAMPAIGN_LEVEL).astype(str)
    for col in ("account_id", "campaign_id"):
        if frame[col].isna().any():
            raise IngestError(f"{int(frame[col].isna().sum())} rows have no {col}")
        frame[col] = frame[col].astype(str)

    platforms = ensure_platforms(conn, frame["platform"].unique())
    frame["platform_id"] = frame["platform"].map(platforms)

    acc = pd.DataFrame({
        "platform_id": frame["platform_id"], "external_id": frame["account_id"],
        "name": _fill(frame, "account_name", "").astype(str),
        "currency": _fill(frame, "currency", "USD").astype(str),
        "timezone": _fill(frame, "timezone", "UTC").astype(str),
    })
    acc_ids = _resolve(conn, m.AdAccount.__table__, acc, ["platform_id", "external_id"],
                       ["name", "currency", "timezone"])
    frame = frame.merge(acc_ids.rename(columns={"external_id": "account_id", "id": "account_pk"}),
                        on=["platform_id", "account_id"], how="left")

    camp = pd.DataFrame({
        "account_id": frame["account_pk"], "platform_id": frame["platform_id"],
        "external_id": frame["campaign_id"],
        "name": _fill(frame, "campaign_name", "").astype(str),
        "objective": _fill(frame, "objective", None), "status": _fill(frame, "status", None),
    })
    camp_ids = _resolve(conn, m.Campaign.__table__, camp, ["account_id", "external_id"],
                        ["platform_id", "name", "objective", "status"])
    frame = frame.merge(camp_ids.rename(columns={"account_id": "account_pk", "external_id": "campaign_id",
                                                 "id": "campaign_pk"}),
                        on=["account_pk", "campaign_id"], how="left")

    adset_attrs = ["audience", "segment", "geo", "language", "age_band", "gender"]
    aset = pd.DataFrame({"campaign_id": frame["campaign_pk"], "external_id": frame["ad_set_id"],
                         "name": _fill(frame, "ad_set_name", "").astype(str)})
    for a in adset_attrs:
        aset[a] = _fill(frame, a, None)
    aset_ids = _resolve(conn, m.AdSet.__table__, aset, ["campaign_id", "external_id"], ["name", *adset_attrs])
    frame = frame.merge(aset_ids.rename(columns={"campaign_id": "campaign_pk", "external_id": "ad_set_id",
                                                 "id": "ad_set_pk"}),
                        on=["campaign_pk", "ad_set_id"], how="left")

    ad = pd.DataFrame({"ad_set_id": frame["ad_set_pk"], "external_id": frame["ad_id"],
                       "name": _fill(frame, "ad_name", "").astype(str),
                       "creative_type": _fill(frame, "creative_type", None)})
    ad_ids = _resolve(conn, m.Ad.__table__, ad, ["ad_set_id", "external_id"], ["name", "creative_type"])
    frame = frame.merge(ad_ids.rename(columns={"ad_set_id": "ad_set_pk", "external_id": "ad_id", "id": "ad_pk"}),
                        on=["ad_set_pk", "ad_id"], how="left")
    return frame


def _as_dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.normalize()


def fx_to_reporting(conn: Connection, frame: pd.DataFrame, reporting_currency: str) -> pd.Series:
    """Rate per row (value of one unit of the row's currency in the reporting currency).

    Uses the latest rate on or before the row's date (FX tables skip weekends and holidays);
    a currency with no rate at all is refused rather than silently counted as 1.0.
    """
    rates = pd.Series(1.0, index=frame.index)
    dates = _as_dates(frame["date"])
    for cur in sorted(set(frame["currency"]) - {reporting_currency}):
        fx = pd.DataFrame(
            conn.execute(select(m.FxRate.date, m.FxRate.rate).where(m.FxRate.currency == cur)
                         .order_by(m.FxRate.date)).all(), columns=["date", "rate"])
        if fx.empty:
            raise IngestError(
                f"No FX rate for {cur} → {reporting_currency}: import FX rates before data in {cur}.")
        fx["date"] = _as_dates(fx["date"])
        mask = frame["currency"] == cur
        left = pd.DataFrame({"date": dates[mask], "pos": frame.index[mask]}).sort_values("date")
        joined = pd.merge_asof(left, fx, on="date", direction="backward")
        missing = joined["rate"].isna()
        if missing.any():  # before the first known rate: take the earliest one
            joined.loc[missing, "rate"] = float(fx["rate"].iloc[0])
        rates.loc[joined["pos"].to_numpy()] = joined["rate"].to_numpy()
    return rates


def ingest_ad_daily(conn: Connection, rows: pd.DataFrame, reporting_currency: str) -> int:
    """Upsert ad-day facts (unified columns) and rebuild the rollup for the touched window."""
    if rows.empty:
        return 0
    frame = resolve_dimensions(conn, rows)
    frame["date"] = _as_dates(frame["date"])
    rate = fx_to_reporting(conn, frame, reporting_currency)
    fact = pd.DataFrame({
        "date": frame["date"].dt.date, "ad_id": frame["ad_pk"], "platform_id": frame["platform_id"],
        "account_id": frame["account_pk"], "campaign_id": frame["campaign_pk"],
    })
    for col in FACT_MEASURES:
        default = None if col == "reach" else 0
        fact[col] = _fill(frame, col, default)
    fact["spend_rc"] = (fact["spend"].astype(float) * rate).round(4)
    fact["revenue_rc"] = (fact["revenue"].astype(float) * rate).round(4)
    fact = fact.drop_duplicates(subset=["date", "ad_id"], keep="last")
    n = upsert_frame(conn, m.FactAdDaily.__table__, fact, key=["date", "ad_id"])
    refresh_rollup(conn, fact["date"].min(), fact["date"].max(), fact["account_id"].unique().tolist())
    if conn.dialect.name == "postgresql" and n >= BULK_ROWS:
        # Fresh statistics, or the planner keeps estimating the rollup at a few rows after a bulk load.
        conn.execute(text("ANALYZE fact_ad_daily"))
        conn.execute(text("ANALYZE agg_channel_daily"))
    bump_data_version(conn)
    return n


ROLLED_MEASURES = ("spend", "spend_rc", "impressions", "clicks", "leads", "conversions", "revenue", "revenue_rc",
                   "engagements")


#: Breakdown rollup → (its fact table, the keys it keeps besides date and account).
BREAKDOWN_ROLLUPS = {"agg_hourly": ("fact_campaign_hourly", ("hour",)),
                     "agg_audience": ("fact_audience_daily", ("age_band", "gender", "geo", "segment"))}


def refresh_breakdown_rollup(conn: Connection, rollup: str, date_from: dt.date, date_to: dt.date,
                             account_ids: list[int]) -> None:
    """Rebuild a breakdown rollup (BREAKDOWN_ROLLUPS) for a window and accounts, inside the same
    transaction as the facts."""
    facts, extra = BREAKDOWN_ROLLUPS[rollup]
    params = {"a": date_from, "b": date_to}
    in_list = ", ".join(str(int(i)) for i in account_ids) or "NULL"
    conn.execute(text(f"DELETE FROM {rollup} WHERE date BETWEEN :a AND :b AND account_id IN ({in_list})"), params)
    keys = ", ".join(("date", "account_id", *extra))
    sums = ", ".join(f"SUM({c})" for c in ROLLED_MEASURES)
    conn.execute(text(
        f"INSERT INTO {rollup} ({keys}, platform_id, {', '.join(ROLLED_MEASURES)}) "
        f"SELECT {keys}, MIN(platform_id), {sums} FROM {facts} "
        f"WHERE date BETWEEN :a AND :b AND account_id IN ({in_list}) GROUP BY {keys}"), params)


def refresh_rollup(conn: Connection, date_from: dt.date, date_to: dt.date, account_ids: list[int]) -> None:
    """Rebuild agg_channel_daily for a window, inside the same transaction as the facts."""
    ids = [int(a) for a in account_ids]
    params = {"a": date_from, "b": date_to}
    in_list = ", ".join(str(i) for i in ids)
    conn.execute(text(f"DELETE FROM agg_channel_daily WHERE date BETWEEN :a AND :b AND account_id IN ({in_list})"),
                 params)
    sums = ", ".join(f"SUM({c})" for c in ("spend", "spend_rc", "impressions", "reach", "clicks", "leads",
                                          "conversions", "revenue", "revenue_rc", "engagements", "video_views"))
    conn.execute(text(
        "INSERT INTO agg_channel_daily (date, account_id, platform_id, spend, spend_rc, impressions, reach, "
        "clicks, leads, conversions, revenue, revenue_rc, engagements, video_views) "
        f"SELECT date, account_id, MIN(platform_id), {sums} FROM fact_ad_daily "
        f"WHERE date BETWEEN :a AND :b AND account_id IN ({in_list}) GROUP BY date, account_id"
    ), params)


def refresh_rollups(conn: Connection, date_from: dt.date, date_to: dt.date, account_ids: list[int]) -> None:
    """Every rollup of a window: after clear_window, whose deletes span all three fact tables."""
    refresh_rollup(conn, date_from, date_to, account_ids)
    for rollup in BREAKDOWN_ROLLUPS:
        refresh_breakdown_rollup(conn, rollup, date_from, date_to, account_ids)


def clear_window(conn: Connection, channels: Iterable[str], account_ids: Iterable[str], date_from: dt.date,
                 date_to: dt.date) -> list[int]:
    """Delete a window's facts (ad-day, hourly, audience); returns the ad_account ids touched.

    A sync fetches its whole window, so replacing it — not only upserting over it — also drops
    rows the platform no longer reports (an ad removed from a restated day, a Meta campaign's
    breakdowns moving from Facebook to Instagram) instead of leaving them double-counted. The
    caller rebuilds the rollups for the returned accounts (refresh_rollups) in the same transaction.
    """
    accounts = conn.execute(
        select(m.AdAccount.id).join(m.Platform, m.Platform.id == m.AdAccount.platform_id)
        .where(m.Platform.slug.in_(list(channels)), m.AdAccount.external_id.in_(list(account_ids)))
    ).scalars().all()
    for table in (m.FactAdDaily, m.FactHourly, m.FactAudienceDaily):
        conn.execute(delete(table).where(table.account_id.in_(accounts), table.date.between(date_from, date_to)))
    return list(accounts)


def _campaign_ids(conn: Connection) -> pd.DataFrame:
    """(platform slug, account external id, campaign external id) → ids, for breakdown facts."""
    q = (select(m.Platform.slug.label("platform"), m.AdAccount.external_id.label("account_id"),
                m.Campaign.external_id.label("campaign_id"), m.Campaign.id.label("campaign_pk"),
                m.Campaign.account_id.label("account_pk"), m.Campaign.platform_id.label("platform_id"),
                m.AdAccount.currency.label("currency"))
         .join(m.AdAccount, m.AdAccount.id == m.Campaign.account_id)
         .join(m.Platform, m.Platform.id == m.AdAccount.platform_id))
    return pd.DataFrame(conn.execute(q).all(), columns=["platform", "account_id", "campaign_id", "campaign_pk",
                                                        "account_pk", "platform_id", "currency"])


def _campaign_facts(conn: Connection, rows: pd.DataFrame, reporting_currency: str, extra_keys: list[str]) -> pd.DataFrame:
    ids = _campaign_ids(conn)
    frame = rows.copy()
    frame["account_id"] = frame["account_id"].astype(str)
    frame["campaign_id"] = frame["campaign_id"].astype(str)
    frame = frame.drop(columns=[c for c in ("currency",) if c in frame]).merge(
        ids, on=["platform", "account_id", "campaign_id"], how="left")
    unknown = frame["campaign_pk"].isna()
    if unknown.any():
        raise IngestError(f"{int(unknown.sum())} breakdown rows refer to campaigns with no daily data yet")
    frame["date"] = _as_dates(frame["date"])
    rate = fx_to_reporting(conn, frame, reporting_currency)
    fact = pd.DataFrame({"date": frame["date"].dt.date, "campaign_id": frame["campaign_pk"].astype(int),
                         "platform_id": frame["platform_id"].astype(int),
                         "account_id": frame["account_pk"].astype(int)})
    for k in extra_keys:
        fact[k] = frame[k]
    for col in ("spend", "impressions", "clicks", "leads", "conversions", "revenue", "engagements"):
        fact[col] = _fill(frame, col, 0)
    fact["spend_rc"] = (fact["spend"].astype(float) * rate).round(4)
    fact["revenue_rc"] = (fact["revenue"].astype(float) * rate).round(4)
    return fact.drop_duplicates(subset=["date", "campaign_id", *extra_keys], keep="last")


def ingest_hourly(conn: Connection, rows: pd.DataFrame, reporting_currency: str) -> int:
    if rows.empty:
        return 0
    fact = _campaign_facts(conn, rows, reporting_currency, ["hour"])
    n = upsert_frame(conn, m.FactHourly.__table__, fact, key=["date", "hour", "campaign_id"])
    refresh_breakdown_rollup(conn, "agg_hourly", fact["date"].min(), fact["date"].max(),
                             fact["account_id"].unique().tolist())
    return n


def ingest_audience(conn: Connection, rows: pd.DataFrame, reporting_currency: str) -> int:
    if rows.empty:
        return 0
    keys = ["age_band", "gender", "geo", "segment"]
    rows = rows.copy()
    for k in keys:
        rows[k] = _fill(rows, k, "unknown").astype(str)
    fact = _campaign_facts(conn, rows, reporting_currency, keys)
    n = upsert_frame(conn, m.FactAudienceDaily.__table__, fact, key=["date", "campaign_id", *keys])
    refresh_breakdown_rollup(conn, "agg_audience", fact["date"].min(), fact["date"].max(),
                             fact["account_id"].unique().tolist())
    return n


def ingest_posts(conn: Connection, rows: pd.DataFrame) -> int:
    if rows.empty:
        return 0
    platforms = ensure_platforms(conn, rows["platform"].unique())
    frame = pd.DataFrame({
        "platform_id": rows["platform"].map(platforms), "external_id": rows["external_id"].astype(str),
        "published_at": pd.to_datetime(rows["published_at"], utc=True),
    })
    for col in ("views", "reactions", "shares", "comments"):
        frame[col] = _fill(rows, col, 0)
    frame["reach"] = _fill(rows, "reach", None)
    return upsert_frame(conn, m.OrganicPost.__table__, frame, key=["platform_id", "external_id"])


def ingest_fx(conn: Connection, rows: pd.DataFrame) -> int:
    frame = pd.DataFrame({"date": _as_dates(rows["date"]).dt.date, "currency": rows["currency"].str.upper(),
                          "rate": rows["rate"].astype(float)})
    if (frame["rate"] <= 0).any():
        raise IngestError("FX rates must be positive")
    return upsert_frame(conn, m.FxRate.__table__, frame, key=["date", "currency"])


def ingest_outcome(conn: Connection, rows: pd.DataFrame) -> int:
    frame = pd.DataFrame({"date": _as_dates(rows["date"]).dt.date,
                          "conversions": rows["conversions"].astype(float),
                          "revenue_rc": rows["revenue"].astype(float).round(4)})
    n = upsert_frame(conn, m.OutcomeDaily.__table__, frame, key=["date"])
    bump_data_version(conn)
    return n


LIFT_METRICS = ("revenue", "conversions")


def _lift_problems(frame: pd.DataFrame, known: set[str]) -> list[str]:
    """Every problem with its row number (1 = the first data row), so a file is fixed once."""
    problems = []
    for row, r in enumerate(frame.itertuples(index=False), start=1):
        if r.channel not in known:
            problems.append(f"row {row}: unknown channel {r.channel!r} "
                            f"(known: {', '.join(sorted(known)) or 'none yet'})")
        if pd.isna(r.date_from) or pd.isna(r.date_to):
            problems.append(f"row {row}: date_from and date_to must be dates (YYYY-MM-DD)")
        elif r.date_to < r.date_from:
            problems.append(f"row {row}: date_to is before date_from")
        if r.metric not in LIFT_METRICS:
            problems.append(f"row {row}: metric must be revenue or conversions, not {r.metric!r}")
        if not pd.notna(r.lift) or abs(r.lift) == float("inf"):
            problems.append(f"row {row}: lift must be a number")
        if not pd.notna(r.standard_error) or not 0 < r.standard_error < float("inf"):
            problems.append(f"row {row}: standard_error must be a positive number")
    return problems


def ingest_lift_tests(conn: Connection, rows: pd.DataFrame, reporting_currency: str,
                      source: str = "import") -> int:
    """Validate and upsert lift-test results [channel, date_from, date_to, metric, lift,
    standard_error, optional spend and currency]. Revenue and spend in another currency are
    converted at the rate of the test's last day. Any problem refuses the whole batch."""
    missing = {"channel", "date_from", "date_to", "metric", "lift", "standard_error"} - set(rows)
    if missing:
        raise IngestError(f"lift tests need the columns {', '.join(sorted(missing))}")
    if rows.empty:
        raise IngestError("no lift tests in the input")
    frame = pd.DataFrame({
        "channel": rows["channel"].astype(str).str.strip().str.lower(),
        "date_from": pd.to_datetime(rows["date_from"], errors="coerce"),
        "date_to": pd.to_datetime(rows["date_to"], errors="coerce"),
        "metric": rows["metric"].astype(str).str.strip().str.lower(),
        "lift": pd.to_numeric(rows["lift"], errors="coerce"),
        "standard_error": pd.to_numeric(rows["standard_error"], errors="coerce"),
        "spend": pd.to_numeric(_fill(rows, "spend", None), errors="coerce"),
        "currency": _fill(rows, "currency", reporting_currency).astype(str).str.upper(),
    })
    known = set(conn.execute(select(m.Platform.slug)).scalars())
    problems = _lift_problems(frame, known)
    if problems:
        raise IngestError("; ".join(problems))
    rate = fx_to_reporting(conn, frame.assign(date=frame["date_to"]), reporting_currency)
    money = frame["metric"] == "revenue"
    out = pd.DataFrame({
        "platform": frame["channel"], "date_from": frame["date_from"].dt.date,
        "date_to": frame["date_to"].dt.date, "metric": frame["metric"],
        "lift": frame["lift"].where(~money, frame["lift"] * rate),
        "standard_error": frame["standard_error"].where(~money, frame["standard_error"] * rate),
        "spend_rc": (frame["spend"] * rate).astype(object).where(frame["spend"].notna(), None),
        "source": source,
        "imported_at": pd.Timestamp.now(tz="UTC").to_pydatetime()})
    key = ["platform", "date_from", "date_to", "metric"]
    if out.duplicated(key).any():
        raise IngestError("the same channel, window and metric appear twice")
    n = upsert_frame(conn, m.LiftTest.__table__, out, key=key)
    bump_data_version(conn)
    return n


def set_state(conn: Connection, key: str, value: object) -> None:
    frame = pd.DataFrame({"key": [key], "value": [json.dumps(value, default=str)],
                          "updated_at": [pd.Timestamp.now(tz="UTC").to_pydatetime()]})
    upsert_frame(conn, m.AppState.__table__, frame, key=["key"])


def get_state(conn: Connection, key: str, default: object = None) -> object:
    raw = conn.execute(select(m.AppState.value).where(m.AppState.key == key)).scalar()
    return default if raw is None else json.loads(raw)


def bump_data_version(conn: Connection) -> None:
    """New data landed: caches keyed on the data version stop serving old numbers."""
    set_state(conn, "data_version", dt.datetime.now(dt.timezone.utc).isoformat())
