"""The simulator's contract: determinism, prefix stability, partial days, invariants and truth."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from modeling.simulator import SimConfig, SimResult, response, season_multiplier, simulate, true_daily_channel
from modeling.simulator.apportion import apportion

START = dt.date(2024, 9, 2)
DAYS = 120
FRAMES = ("accounts", "campaigns", "ad_sets", "ads", "daily", "hourly", "audience", "organic_posts", "outcome",
          "fx", "anomalies")
COUNTS = ("impressions", "reach", "clicks", "leads", "conversions", "engagements", "video_views")


@pytest.fixture(scope="module")
def sim() -> SimResult:
    return simulate(SimConfig(seed=7, start_date=START, days=DAYS))


@pytest.fixture(scope="module")
def year() -> SimResult:
    return simulate(SimConfig(seed=7, start_date=START, days=365))


def _by_campaign(result: SimResult) -> pd.DataFrame:
    daily = result.daily.merge(result.ads[["ad_key", "campaign_key"]], on="ad_key")
    return daily.groupby(["date", "campaign_key"]).sum(numeric_only=True)


def _with_channel(result: SimResult) -> pd.DataFrame:
    """Daily rows with their platform and USD spend / revenue (via that day's fx rate)."""
    daily = result.daily.merge(result.ads[["ad_key", "account_key", "platform", "campaign_key"]], on="ad_key")
    daily = daily.merge(result.accounts[["account_key", "currency"]], on="account_key")
    daily = daily.merge(result.fx, on=["date", "currency"])
    return daily.assign(spend_usd=daily["spend"] * daily["rate"], revenue_usd=daily["revenue"] * daily["rate"])


def _clean_days(result: SimResult) -> pd.DataFrame:
    """Channel-days that no injected incident touched: (date, channel) pairs."""
    hit = result.anomalies.merge(result.campaigns[["campaign_key", "platform"]], on="campaign_key")
    return hit[["date", "platform"]].drop_duplicates()


def _oracle_incremental_revenue(channel: dict, spend: np.ndarray, season: np.ndarray) -> np.ndarray:
    """Adstock → Hill written as a plain loop, independent of the package's vectorised code."""
    theta, out, carry = channel["adstock_decay"], np.empty_like(spend), spend[0]
    for t, s in enumerate(spend):
        carry = (1 - theta) * s + theta * carry
        x = carry ** channel["hill_n"]
        out[t] = channel["beta"] * x / (x + channel["hill_k"] ** channel["hill_n"]) * season[t]
    return out * channel["value_per_conversion"]


# --- determinism and stability ------------------------------------------------------------------

def test_same_config_gives_identical_frames_and_other_seeds_differ(sim):
    again = simulate(SimConfig(seed=7, start_date=START, days=DAYS))
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(sim, name), getattr(again, name), obj=name)
    assert json.dumps(sim.truth, sort_keys=True) == json.dumps(again.truth, sort_keys=True)
    other = simulate(SimConfig(seed=8, start_date=START, days=DAYS))
    assert not sim.daily["spend"].equals(other.daily["spend"])


def test_end_date_anchor_matches_start_date_anchor(sim):
    by_end = simulate(SimConfig(seed=7, end_date=START + dt.timedelta(days=DAYS - 1), days=DAYS))
    pd.testing.assert_frame_equal(by_end.daily, sim.daily)
    assert sim.truth["start_date"] == START.isoformat()
    assert sim.daily["date"].min() == pd.Timestamp(START)
    assert sim.daily["date"].max() == pd.Timestamp(START + dt.timedelta(days=DAYS - 1))


def _rows_before(frame: pd.DataFrame, cutoff: pd.Timestamp, column: str = "date") -> pd.DataFrame:
    dates = frame[column].dt.tz_localize(None).dt.normalize() if column == "published_at" else frame[column]
    return frame[dates < cutoff].reset_index(drop=True)


def _drop_incident_rows(frame: pd.DataFrame, incidents: pd.DataFrame, ads: pd.DataFrame) -> pd.DataFrame:
    if "campaign_key" not in frame:
        frame = frame.merge(ads[["ad_key", "campaign_key"]], on="ad_key", how="left")
        keys = frame[["date", "campaign_key"]]
        frame = frame.drop(columns=["campaign_key"])
    else:
        keys = frame[["date", "campaign_key"]]
    hit = keys.merge(incidents[["date", "campaign_key"]], how="left", indicator=True)["_merge"] == "both"
    return frame[~hit.to_numpy()].reset_index(drop=True)


def test_longer_window_reproduces_the_shorter_one_exactly(year):
    # Cut the window so the year's first incident *ends* on the short window's second-to-last day:
    # it must be withheld there (quiet tail) and be the only difference.
    first = year.anomalies.groupby(["campaign_key", "metric"], sort=False)["date"].max().min()
    n = (first - pd.Timestamp(START)).days + 2
    short = simulate(SimConfig(seed=7, start_date=START, days=n))
    cutoff = pd.Timestamp(START + dt.timedelta(days=n))
    withheld = year.anomalies[(year.anomalies["date"] < cutoff)
                              & ~year.anomalies["date"].isin(short.anomalies["date"])]
    assert not withheld.empty and (withheld["date"].max() >= cutoff - pd.Timedelta(days=2))
    pd.testing.assert_frame_equal(short.anomalies, _rows_before(year.anomalies, cutoff).drop(withheld.index))

    for name in ("daily", "hourly", "audience"):
        a = _drop_incident_rows(getattr(short, name), withheld, short.ads)
        b = _drop_incident_rows(_rows_before(getattr(year, name), cutoff), withheld, year.ads)
        pd.testing.assert_frame_equal(a, b, obj=name)
    for name in ("outcome", "fx"):
        pd.testing.assert_frame_equal(getattr(short, name), _rows_before(getattr(year, name), cutoff), obj=name)
    pd.testing.assert_frame_equal(short.organic_posts, _rows_before(year.organic_posts, cutoff, "published_at"))
    # dimensions: the short window knows a subset of the campaigns, with identical attributes
    merged = short.ads.merge(year.ads, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert len(year.campaigns) > len(short.campaigns)


def test_until_hour_makes_the_last_day_partial_and_keeps_earlier_hours(sim):
    last = pd.Timestamp(START + dt.timedelta(days=DAYS - 1))
    morning = simulate(SimConfig(seed=7, start_date=START, days=DAYS, until_hour=10))
    evening = simulate(SimConfig(seed=7, start_date=START, days=DAYS, until_hour=18))
    for name in ("daily", "hourly", "audience", "outcome"):
        pd.testing.assert_frame_equal(_rows_before(getattr(morning, name), last),
                                      _rows_before(getattr(sim, name), last), obj=name)
    # hours already reported never change as the day advances
    for partial, h in ((morning, 10), (evening, 18)):
        hours = partial.hourly[partial.hourly["date"] == last]
        assert hours["hour"].max() == h - 1
        full = sim.hourly[(sim.hourly["date"] == last) & (sim.hourly["hour"] < h)]
        pd.testing.assert_frame_equal(hours.reset_index(drop=True), full.reset_index(drop=True))
        assert (partial.organic_posts["published_at"].dt.tz_localize(None) < last + pd.Timedelta(hours=h)).all()
    # the last day's ad rows add up to the hours that happened, and grow through the day
    day = {name: _by_campaign(r).xs(last, level="date") for name, r in
           (("morning", morning), ("evening", evening), ("full", sim))}
    hourly_sum = morning.hourly[morning.hourly["date"] == last].groupby("campaign_key").sum(numeric_only=True)
    assert (day["morning"]["impressions"] == hourly_sum["impressions"]).all()
    for m in ("spend", "impressions", "clicks", "conversions"):
        assert (day["morning"][m] <= day["evening"][m] + 1e-9).all() and (day["evening"][m] <= day["full"][m] + 1e-9).all()
    assert day["morning"]["spend"].sum() < 0.6 * day["full"]["spend"].sum()
    outcome = [r.outcome["revenue"].iloc[-1] for r in (morning, evening, sim)]
    assert outcome[0] < outcome[1] < outcome[2]
    assert simulate(SimConfig(seed=7, start_date=START, days=3, until_hour=24)).daily.equals(
        simulate(SimConfig(seed=7, start_date=START, days=3)).daily)


# --- invariants -----------------------------------------------------------------------------------

def test_frames_have_the_contract_columns_and_types(sim):
    expected = {
        "accounts": ["account_key", "platform", "external_id", "name", "currency", "timezone"],
        "campaigns": ["campaign_key", "account_key", "platform", "external_id", "name", "objective", "status",
                      "start_date"],
        "ad_sets": ["ad_set_key", "campaign_key", "external_id", "name", "audience", "segment", "geo", "language",
                    "age_band", "gender"],
        "ads": ["ad_key", "ad_set_key", "campaign_key", "account_key", "platform", "external_id", "name",
                "creative_type"],
        "daily": ["date", "ad_key", "spend", "impressions", "reach", "clicks", "leads", "conversions", "revenue",
                  "engagements", "video_views"],
        "hourly": ["date", "hour", "campaign_key", "spend", "impressions", "clicks", "leads", "conversions",
                   "revenue", "engagements"],
        "audience": ["date", "campaign_key", "age_band", "gender", "geo", "segment", "spend", "impressions",
                     "clicks", "leads", "conversions", "revenue"],
        "organic_posts": ["post_key", "platform", "external_id", "published_at", "views", "reach", "reactions",
                          "shares", "comments"],
        "outcome": ["date", "conversions", "revenue"],
        "fx": ["date", "currency", "rate"],
        "anomalies": ["date", "campaign_key", "metric", "kind", "factor"],
    }
    for name, columns in expected.items():
        frame = getattr(sim, name)
        assert list(frame.columns) == columns, name
        if "date" in frame:
            assert frame["date"].dtype == "datetime64[ns]", name
    assert str(sim.organic_posts["published_at"].dt.tz) == "UTC"
    assert set(sim.accounts["platform"]) == {"instagram", "facebook", "google_ads", "tiktok", "telegram",
                                             "yandex_direct", "vk_ads"}
    currency = sim.accounts.set_index("platform")["currency"]
    assert set(currency[["yandex_direct", "vk_ads", "telegram"]]) == {"RUB"}
    assert "EUR" in set(currency) and set(currency[["instagram", "tiktok"]]) == {"USD"}
    keys = pd.concat([sim.accounts["account_key"], sim.campaigns["campaign_key"], sim.ad_sets["ad_set_key"],
                      sim.ads["ad_key"], sim.organic_posts["post_key"]])
    assert keys.is_unique
    assert set(sim.campaigns["objective"]) <= {"leads", "conversions", "traffic", "awareness", "engagement"}
    assert (sim.ad_sets.groupby("campaign_key").size() >= 2).all()
    assert (sim.ads.groupby("ad_set_key").size() >= 2).all()
    json.dumps(sim.truth)


def test_reports_are_non_negative_and_consistent(sim):
    d = sim.daily
    for name in ("daily", "hourly", "audience", "organic_posts", "outcome"):
        numbers = getattr(sim, name).select_dtypes("number")
        assert (numbers >= 0).all().all(), name
    assert (d["clicks"] <= d["impressions"]).all() and (d["reach"] <= d["impressions"]).all()
    assert (d["conversions"] <= d["leads"]).all()
    assert (d[list(COUNTS)].dtypes == np.int64).all()
    assert ((d[["spend", "revenue"]] * 100).round(6) % 1 == 0).all().all()
    video = d.merge(sim.ads[["ad_key", "creative_type"]], on="ad_key")
    assert (video.loc[video["creative_type"] != "video", "video_views"] == 0).all()
    assert (video.loc[video["creative_type"] == "video", "video_views"] > 0).mean() > 0.9
    for name in ("hourly", "audience"):
        frame = getattr(sim, name)
        assert (frame["clicks"] <= frame["impressions"]).all() and (frame["conversions"] <= frame["leads"]).all()
    # no rows before a campaign starts
    first = d.merge(sim.ads[["ad_key", "campaign_key"]], on="ad_key").groupby("campaign_key")["date"].min()
    starts = sim.campaigns.set_index("campaign_key")["start_date"]
    assert (first >= starts[first.index]).all()
    assert (starts > pd.Timestamp(START)).any() and (sim.campaigns["status"] == "paused").any()


def test_hourly_and_audience_add_up_to_daily(sim):
    daily = _by_campaign(sim)
    for name, metrics in (("hourly", ("impressions", "clicks", "leads", "conversions", "engagements")),
                          ("audience", ("impressions", "clicks", "leads", "conversions"))):
        parts = getattr(sim, name).groupby(["date", "campaign_key"]).sum(numeric_only=True).loc[daily.index]
        for m in metrics:
            assert (parts[m] == daily[m]).all(), (name, m)
        for m in ("spend", "revenue"):
            assert np.abs(parts[m] - daily[m]).max() <= 0.01 * 24, (name, m)
    assert set(sim.audience["age_band"]) == {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    assert set(sim.audience["gender"]) == {"female", "male"}


def test_hourly_profiles_differ_by_platform(sim):
    h = sim.hourly.merge(sim.campaigns[["campaign_key", "platform"]], on="campaign_key")
    peak = h.groupby(["platform", "hour"])["impressions"].sum().groupby("platform").idxmax().map(lambda x: x[1])
    assert 18 <= peak["instagram"] <= 22 and 18 <= peak["facebook"] <= 22
    assert 9 <= peak["google_ads"] <= 16 and 9 <= peak["yandex_direct"] <= 16


def test_row_count_scales_with_scale():
    rows = [len(simulate(SimConfig(seed=3, start_date=START, days=60, scale=s)).daily) for s in (1.0, 2.0)]
    assert 1.6 < rows[1] / rows[0] < 2.4


# --- ground truth ---------------------------------------------------------------------------------

def test_outcome_is_baseline_plus_true_incremental(sim):
    truth, dates = sim.truth, sim.outcome["date"]
    season = season_multiplier(dates, truth["season"])
    truth_days = true_daily_channel(sim)
    incremental = sum(
        response(ch, truth_days.loc[truth_days["channel"] == slug, "spend_usd"].to_numpy(), season)
        for slug, ch in truth["channels"].items())
    b = truth["baseline"]
    t = np.arange(len(dates))
    expected_baseline = (b["conversions_per_day"] * (1 + b["trend_per_year"] * t / 365)
                         * np.asarray(b["weekly"])[dates.dt.dayofweek] * season * b["value_per_conversion"])
    log_ratio = np.log((sim.outcome["revenue"] - incremental) / expected_baseline)
    assert abs(log_ratio.mean()) < 0.02 and 0.03 < log_ratio.std() < 0.07
    assert np.allclose(truth_days.groupby("date")["incremental_revenue"].sum(), incremental)
    assert 0.2 < incremental.sum() / sim.outcome["revenue"].sum() < 0.6


def test_reported_conversions_are_over_attributed_incremental(sim):
    daily = _with_channel(sim).rename(columns={"platform": "channel"})
    clean = daily.merge(_clean_days(sim).rename(columns={"platform": "channel"}), how="left", indicator=True)
    clean = clean[clean["_merge"] == "left_only"]
    reported = clean.groupby("channel")[["conversions", "revenue_usd", "spend_usd"]].sum()
    truth_days = true_daily_channel(sim).merge(clean[["date", "channel"]].drop_duplicates())
    true = truth_days.groupby("channel")[["incremental_conversions", "incremental_revenue", "spend_usd"]].sum()
    for slug, ch in sim.truth["channels"].items():
        oa = ch["over_attribution"]
        assert 1.1 <= oa <= 1.8
        assert reported.loc[slug, "conversions"] / true.loc[slug, "incremental_conversions"] == pytest.approx(oa, rel=0.01)
        assert reported.loc[slug, "revenue_usd"] / true.loc[slug, "incremental_revenue"] == pytest.approx(oa, rel=0.05)
        # reports in account currency convert back to the planned USD spend
        assert reported.loc[slug, "spend_usd"] == pytest.approx(true.loc[slug, "spend_usd"], rel=1e-4)


def test_true_roi_and_mroi_recomputed_independently(sim):
    truth_days = true_daily_channel(sim)
    season = season_multiplier(sim.outcome["date"], sim.truth["season"])
    for slug, ch in sim.truth["channels"].items():
        spend = truth_days.loc[truth_days["channel"] == slug, "spend_usd"].to_numpy()
        revenue = _oracle_incremental_revenue(ch, spend, season)
        assert ch["true_roi"] == pytest.approx(revenue.sum() / spend.sum(), rel=1e-5)
        more = _oracle_incremental_revenue(ch, spend * 1.01, season)
        assert ch["true_mroi"] == pytest.approx((more.sum() - revenue.sum()) / (0.01 * spend.sum()), rel=1e-4)
    mroi = {s: c["true_mroi"] for s, c in sim.truth["channels"].items()}
    # some channels saturated, some with headroom: re-allocation has something to gain
    assert max(mroi.values()) > 2 * min(mroi.values())
    assert all(c["true_mroi"] < c["true_roi"] for s, c in sim.truth["channels"].items() if s in ("facebook", "telegram"))


def test_spend_plan_moves_enough_to_identify_response_curves(year):
    spend = true_daily_channel(year).pivot(index="date", columns="channel", values="spend_usd")
    weekly = spend.rolling(7).mean().dropna()
    assert ((weekly.max() / weekly.min()) > 1.6).all()


def test_response_is_steady_state_for_constant_spend_and_broadcasts(sim):
    ch = sim.truth["channels"]["google_ads"]
    level = ch["hill_k"]
    out = response(ch, np.full(30, level))
    assert np.allclose(out, ch["beta"] * 0.5 * ch["value_per_conversion"])
    grid = response(ch, np.outer([0.0, 1.0, 2.0], np.full(10, level)))
    assert grid.shape == (3, 10) and (grid[0] == 0).all() and (np.diff(grid[:, -1]) > 0).all()
    season = np.linspace(0.8, 1.2, 30)
    assert np.allclose(response(ch, np.full(30, level), season), out * season)


def test_roi_depends_on_known_features_strongly_enough_to_learn(sim):
    daily = _with_channel(sim)
    ads = sim.ads.merge(sim.ad_sets[["ad_set_key", "segment", "geo"]], on="ad_set_key").merge(
        sim.campaigns[["campaign_key", "objective"]], on="campaign_key")
    effects = sim.truth["quality_effects"]
    ads["expected"] = np.log([effects["objective"][o] * effects["segment"][s] * effects["geo"][g]
                              * effects["creative_type"][c] * sim.truth["creative_quality"]["by_ad"][k]
                              for o, s, g, c, k in ads[["objective", "segment", "geo", "creative_type", "ad_key"]]
                              .itertuples(index=False)])
    per_ad = daily.groupby(["platform", "ad_key"])[["revenue_usd", "spend_usd"]].sum().reset_index()
    per_ad = per_ad[per_ad["spend_usd"] > 500].merge(ads[["ad_key", "expected"]], on="ad_key")
    per_ad["log_roi"] = np.log((per_ad["revenue_usd"] + 1) / per_ad["spend_usd"])
    # compare within channel: ROI relative to the channel, against features relative to the channel
    centred = per_ad.groupby("platform")[["log_roi", "expected"]].transform(lambda s: s - s.mean())
    assert np.corrcoef(centred["log_roi"], centred["expected"])[0, 1] > 0.7
    # CTR is an observable proxy of the latent creative quality
    clicks = daily.groupby("ad_key")[["clicks", "impressions"]].sum()
    quality = pd.Series(sim.truth["creative_quality"]["by_ad"])
    ctr = (clicks["clicks"] / clicks["impressions"]).groupby(sim.ads.set_index("ad_key")["platform"]).transform(
        lambda s: np.log(s) - np.log(s).mean())
    assert np.corrcoef(ctr, np.log(quality[ctr.index]))[0, 1] > 0.3


def test_organic_views_peak_at_the_best_post_hour(year):
    posts = year.organic_posts.assign(hour=year.organic_posts["published_at"].dt.hour)
    for slug, ch in year.truth["channels"].items():
        mine = posts[posts["platform"] == slug]
        if slug in ("google_ads", "yandex_direct"):
            assert ch["best_post_hour"] is None and mine.empty
            continue
        distance = np.minimum((mine["hour"] - ch["best_post_hour"]) % 24, (ch["best_post_hour"] - mine["hour"]) % 24)
        assert mine.loc[distance <= 1, "views"].mean() > 1.5 * mine.loc[distance >= 5, "views"].mean()
        assert mine.groupby(mine["published_at"].dt.date).size().between(1, 4).all()


def test_anomalies_are_labelled_where_the_reports_break(year):
    labels = year.anomalies
    incidents = year.truth["anomalies"]
    assert 4 <= len(incidents) <= 8
    assert len(labels) == sum((pd.Timestamp(i["end_date"]) - pd.Timestamp(i["start_date"])).days + 1 for i in incidents)
    assert labels["date"].max() < year.outcome["date"].max() - pd.Timedelta(days=1)
    assert set(labels["kind"]) <= {"spike", "drop"}
    by_campaign = _by_campaign(year).reset_index()
    by_campaign["cpc"] = by_campaign["spend"] / by_campaign["clicks"].clip(lower=1)
    for row in labels.itertuples():
        series = by_campaign[by_campaign["campaign_key"] == row.campaign_key].set_index("date")[row.metric]
        window = series[(series.index - row.date).days.to_series(index=series.index).abs().between(3, 10)]
        ratio = series[row.date] / window.median()
        assert ratio > 1.8 if row.kind == "spike" else ratio < 0.5, (row, ratio)


def test_apportion_sums_exactly_and_keeps_chained_parts_ordered():
    rng = np.random.default_rng(0)
    weights = rng.random((500, 24))
    big = rng.integers(0, 1000, 500)
    small = (big * rng.random(500)).astype(np.int64)
    big_parts = apportion(big, weights)
    small_parts = apportion(small, big_parts)
    assert (big_parts.sum(axis=1) == big).all() and (small_parts.sum(axis=1) == small).all()
    assert (small_parts <= big_parts).all() and (small_parts >= 0).all()
    assert (np.abs(big_parts - big[:, None] * weights / weights.sum(axis=1, keepdims=True)) < 1).all()


def test_a_campaign_that_breaks_twice_is_two_incidents():
    """Seed 3 breaks one yandex_direct campaign's pixel in March and again in September."""
    result = simulate(SimConfig(seed=3, days=365, end_date=dt.date(2026, 11, 25)))
    incidents = pd.DataFrame(result.truth["anomalies"])
    spans = pd.to_datetime(incidents["end_date"]) - pd.to_datetime(incidents["start_date"])
    assert incidents.duplicated(["campaign_key", "cause"]).any()
    assert (spans <= pd.Timedelta(days=1)).all()
    assert len(result.anomalies) == int((spans.dt.days + 1).sum())
