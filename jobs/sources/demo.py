"""The demo source: the ground-truth simulator, advanced to the current hour on every sync.

The simulator is prefix-stable (same seed and start date → identical past days), so each hourly
sync re-generates the series up to now and upserts only the recent window; past rows never move.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from db import ingest
from modeling.simulator import SimConfig, SimResult, simulate

STATE_KEY = "source:demo"
TRUTH_KEY = "demo:truth"


@dataclass(frozen=True)
class DemoState:
    seed: int
    start_date: dt.date
    scale: float
    synced_through: dt.date


def unified_daily(sim: SimResult) -> pd.DataFrame:
    """Ad-day rows in the unified column set, as a connector would yield them."""
    ads = sim.ads.merge(sim.ad_sets.drop(columns=["campaign_key"]), on="ad_set_key", suffixes=("", "_set"))
    ads = ads.merge(sim.campaigns[["campaign_key", "external_id", "name", "objective", "status"]]
                    .rename(columns={"external_id": "campaign_id", "name": "campaign_name"}), on="campaign_key")
    ads = ads.merge(sim.accounts[["account_key", "external_id", "name", "currency", "timezone"]]
                    .rename(columns={"external_id": "account_id", "name": "account_name"}), on="account_key")
    ads = ads.rename(columns={"external_id": "ad_id", "name": "ad_name", "external_id_set": "ad_set_id",
                              "name_set": "ad_set_name"})
    keep = ["ad_key", "platform", "account_id", "account_name", "currency", "timezone", "campaign_id",
            "campaign_name", "objective", "status", "ad_set_id", "ad_set_name", "audience", "segment", "geo",
            "language", "age_band", "gender", "ad_id", "ad_name", "creative_type"]
    return sim.daily.merge(ads[keep], on="ad_key").drop(columns=["ad_key"])


def _campaign_keys(sim: SimResult) -> pd.DataFrame:
    return (sim.campaigns[["campaign_key", "platform", "account_key", "external_id"]]
            .rename(columns={"external_id": "campaign_id"})
            .merge(sim.accounts[["account_key", "external_id"]].rename(columns={"external_id": "account_id"}),
                   on="account_key").drop(columns=["account_key"]))


def unified_by_campaign(frame: pd.DataFrame, sim: SimResult) -> pd.DataFrame:
    return frame.merge(_campaign_keys(sim), on="campaign_key").drop(columns=["campaign_key"])


def fx_in_reporting(sim: SimResult, reporting_currency: str) -> pd.DataFrame:
    """The simulator quotes rates in USD; rebase them when the reporting currency differs."""
    fx = sim.fx.copy()
    if reporting_currency == "USD":
        return fx
    base = fx[fx["currency"] == reporting_currency][["date", "rate"]].rename(columns={"rate": "base"})
    if base.empty:
        raise ingest.IngestError(f"the demo has no FX series for {reporting_currency}")
    fx = fx.merge(base, on="date")
    fx["rate"] = fx["rate"] / fx["base"]
    return fx.drop(columns=["base"])


def load(conn: Connection, sim: SimResult, reporting_currency: str, since: dt.date | None = None) -> int:
    """Write the simulator's output (optionally only dates ≥ since); returns fact rows written."""
    def recent(frame: pd.DataFrame, col: str = "date") -> pd.DataFrame:
        if since is None:
            return frame
        return frame[pd.to_datetime(frame[col]).dt.date >= since]

    ingest.ingest_fx(conn, fx_in_reporting(sim, reporting_currency))
    rows = ingest.ingest_ad_daily(conn, recent(unified_daily(sim)), reporting_currency)
    ingest.ingest_hourly(conn, recent(unified_by_campaign(sim.hourly, sim)), reporting_currency)
    ingest.ingest_audience(conn, recent(unified_by_campaign(sim.audience, sim)), reporting_currency)
    posts = sim.organic_posts
    if since is not None:
        posts = posts[pd.to_datetime(posts["published_at"], utc=True).dt.date >= since]
    ingest.ingest_posts(conn, posts)
    outcome = recent(sim.outcome)
    if reporting_currency != "USD":
        rate = fx_in_reporting(sim, reporting_currency)
        usd = rate[rate["currency"] == "USD"][["date", "rate"]]
        outcome = outcome.merge(usd, on="date")
        outcome["revenue"] = outcome["revenue"] * outcome["rate"]
    ingest.ingest_outcome(conn, outcome)
    if not sim.lift_tests.empty:  # the simulator's are in USD, as its outcome is
        ingest.ingest_lift_tests(conn, sim.lift_tests.assign(currency="USD"), reporting_currency,
                                 source="demo")
    ingest.set_state(conn, TRUTH_KEY, sim.truth)
    return rows


def save_state(conn: Connection, state: DemoState) -> None:
    ingest.set_state(conn, STATE_KEY, {"seed": state.seed, "start_date": state.start_date.isoformat(),
                                       "scale": state.scale, "synced_through": state.synced_through.isoformat()})


def read_state(conn: Connection) -> DemoState | None:
    raw = ingest.get_state(conn, STATE_KEY)
    if not raw:
        return None
    return DemoState(seed=int(raw["seed"]), start_date=dt.date.fromisoformat(raw["start_date"]),
                     scale=float(raw["scale"]), synced_through=dt.date.fromisoformat(raw["synced_through"]))


def load_demo(conn: Connection, *, days: int, seed: int, scale: float, reporting_currency: str,
              end_date: dt.date | None = None) -> int:
    """Initial load of `days` complete days ending yesterday (or `end_date`)."""
    end = end_date or (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1))
    sim = simulate(SimConfig(seed=seed, days=days, end_date=end, scale=scale))
    rows = load(conn, sim, reporting_currency)
    save_state(conn, DemoState(seed=seed, start_date=end - dt.timedelta(days=days - 1), scale=scale,
                               synced_through=end))
    return rows


def sync(conn: Connection, now: dt.datetime, reporting_currency: str, lookback_days: int = 2) -> int:
    """Advance the demo to `now` (today partially, through the last completed hour)."""
    state = read_state(conn)
    if state is None:
        return 0
    today = now.date()
    days = (today - state.start_date).days + 1
    sim = simulate(SimConfig(seed=state.seed, start_date=state.start_date, days=days, scale=state.scale,
                             until_hour=now.hour))
    since = min(state.synced_through, today) - dt.timedelta(days=lookback_days)
    rows = load(conn, sim, reporting_currency, since=since)
    save_state(conn, DemoState(state.seed, state.start_date, state.scale, today))
    return rows
