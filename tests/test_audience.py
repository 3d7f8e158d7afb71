"""The Audience page: its queries on the committed demo, the timing module against the
simulator's truth, and the page's callbacks as Dash registered them.

The simulator splits each ad set's day among audience cells and each campaign's day among hours
so that the parts add up exactly (modeling.simulator.breakdowns), which makes sums checkable
against the daily facts; its daypart profiles (account-local), conversion lag and best post hours
(UTC) are the truth the timing analysis must find.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from dashboard.state import ViewState
from db import audience_queries as aq
from db import ingest, queries
from db import metrics as mx
from db import models as m
from db.filters import Filters
from jobs.sources.demo import TRUTH_KEY
from modeling import timing
from modeling.simulator import SimConfig, simulate
from modeling.simulator.breakdowns import AUDIENCE_METRICS, HOURLY_METRICS
from modeling.simulator.catalog import AUDIENCE_EFFECTS
from modeling.simulator.channels import CHANNELS, hourly_profiles

REL = 1e-6  # every fact row's *_rc is rounded to 4 decimals on its own


@pytest.fixture(scope="module")
def window(demo_db) -> Filters:
    end = demo_db["end"]
    return Filters(end - dt.timedelta(days=89), end)


@pytest.fixture(scope="module")
def sim():
    return simulate(SimConfig(seed=42, days=120, end_date=dt.date(2026, 6, 30)))


def _sum_matches(frame: pd.DataFrame, expected: dict, measures) -> None:
    for c in measures:
        assert frame[c].sum() == pytest.approx(expected[c], rel=REL), c


# ---- Queries on the demo ------------------------------------------------------------------

@pytest.mark.parametrize("by", list(aq.DIMENSIONS))
@pytest.mark.parametrize("channels,currency", [((), None), (("facebook", "tiktok"), "EUR")])
def test_audience_groups_add_up_to_the_daily_facts(window, by, channels, currency):
    f = Filters(window.date_from, window.date_to, channels=channels, currency=currency)
    frame = aq.audience(None, f, by)
    assert list(frame.columns[:len(aq.DIMENSIONS[by])]) == list(aq.DIMENSIONS[by])
    assert not frame.duplicated(list(aq.DIMENSIONS[by])).any()
    # the simulator splits every measure but engagements among the audience cells
    _sum_matches(frame, queries.totals(None, f), AUDIENCE_METRICS)


def test_each_campaigns_audience_adds_up_to_its_own_facts(window):
    top = queries.breakdown(None, window, by="campaign").nlargest(3, "spend")["campaign_id"]
    for campaign in top:
        f = Filters(window.date_from, window.date_to, campaign_ids=(int(campaign),))
        _sum_matches(aq.audience(None, f, "age_gender"), queries.totals(None, f), AUDIENCE_METRICS)


def test_audience_ratios_are_ratios_of_the_groups_sums(engine, window):
    t = m.FactAudienceDaily
    with engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(
            select(t.gender, t.spend_rc, t.impressions, t.clicks, t.conversions)
            .where(t.date >= window.date_from, t.date <= window.date_to)).all(),
            columns=["gender", "spend", "impressions", "clicks", "conversions"]).astype(
            {"spend": float, "impressions": float, "clicks": float, "conversions": float})
    sums = rows.groupby("gender").sum()
    shown = aq.audience(None, window, "gender").set_index("gender")
    assert shown["ctr"].to_numpy() == pytest.approx((sums["clicks"] / sums["impressions"]).to_numpy(), rel=1e-9)
    assert shown["cpa"].to_numpy() == pytest.approx((sums["spend"] / sums["conversions"]).to_numpy(), rel=REL)
    assert set(aq.METRICS) <= set(shown.columns) and "frequency" not in aq.METRICS  # no reach here


def test_audience_groups_carry_the_simulators_audience_effects(window):
    """Raw rates mix campaigns whose age profiles differ, so the truth is checked standardised:
    each campaign's own leads per impression sets what a group "should" get, and a group's index
    is its leads over that expectation. The simulator rounds small lead counts into cells, which
    blurs the age effects a little; the gender effect comes through almost exactly."""
    campaigns = queries.breakdown(None, window, by="campaign")["campaign_id"]
    cells = pd.concat([aq.audience(None, replace(window, campaign_ids=(int(c),)), "age_gender").assign(campaign=c)
                       for c in campaigns])
    rate = cells.groupby("campaign")[["leads", "impressions"]].transform("sum")
    cells["expected"] = cells["impressions"] * rate["leads"] / rate["impressions"]
    sums = {dim: cells.groupby(dim)[["leads", "expected"]].sum() for dim in ("age_band", "gender")}
    index = {dim: s["leads"] / s["expected"] for dim, s in sums.items()}
    truth = {dim: pd.Series(AUDIENCE_EFFECTS[dim]) for dim in index}
    gender = index["gender"]["female"] / index["gender"]["male"]
    assert gender == pytest.approx(truth["gender"]["female"] / truth["gender"]["male"], rel=0.1)
    age = index["age_band"]
    assert age.idxmax() == truth["age_band"].idxmax() and age.idxmin() in ("18-24", "65+")
    assert np.corrcoef(age, truth["age_band"][age.index])[0, 1] > 0.8


def test_hourly_cells_add_up_and_keep_the_accounts_local_hours(window):
    cells = aq.hourly_cells(None, window, by_channel=True)
    _sum_matches(cells, queries.totals(None, window), HOURLY_METRICS)
    assert (cells["weekday"] == cells["date"].dt.dayofweek).all() and cells["hour"].between(0, 23).all()
    # Delivery peaks where each channel's daypart peaks in *local* time: converting the hours to
    # one zone would move New York's and Moscow's peaks apart by seven hours.
    weekdays = cells[cells["weekday"] < 5]
    peaks = weekdays.groupby(["channel", "hour"])["impressions"].sum().unstack().idxmax(axis=1)
    profiles = hourly_profiles()[:, :5].sum(axis=1)
    for channel, hour in peaks.items():
        assert hour == int(np.argmax(profiles[CHANNELS.index(channel)])), channel


def test_hourly_cells_convert_money_like_the_overview(window):
    f = Filters(window.date_from, window.date_to, channels=("google_ads",), currency="EUR")
    _sum_matches(aq.hourly_cells(None, f), queries.totals(None, f), ("spend", "revenue"))


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kathmandu"])
def test_posts_are_placed_by_local_hour_in_the_stated_zone(engine, window, tz):
    with engine.connect() as conn:
        raw = pd.DataFrame(conn.execute(select(m.OrganicPost.published_at, m.OrganicPost.views)).all(),
                           columns=["at", "views"])
    local = pd.to_datetime(raw["at"], utc=True).dt.tz_convert(tz)
    raw = raw.assign(date=local.dt.tz_localize(None).dt.normalize(), hour=local.dt.hour)
    raw = raw[(raw["date"] >= pd.Timestamp(window.date_from)) & (raw["date"] <= pd.Timestamp(window.date_to))]
    expected = raw.groupby(["date", "hour"]).agg(posts=("views", "size"), views=("views", "sum"))
    cells = aq.post_cells(None, window, tz=tz).set_index(["date", "hour"])
    assert cells["posts"].to_dict() == expected["posts"].astype(float).to_dict()
    assert cells["views"].to_dict() == expected["views"].astype(float).to_dict()


def test_timing_finds_the_demos_best_post_hours(engine, window):
    with engine.connect() as conn:
        truth = ingest.get_state(conn, TRUTH_KEY)["channels"]
    found = timing.by_group(aq.post_cells(None, window, tz="UTC", by_channel=True), "views_per_post",
                            n_boot=500)
    assert len(found) == 5
    for row in found.itertuples():
        _near(row.window, truth[row.channel]["best_post_hour"], row.channel)


# ---- The timing module on simulated and synthetic data -----------------------------------

def _hours(label: str) -> list[int]:
    start, end = (int(part[:2]) for part in label.split("–"))
    return [(start + k) % 24 for k in range((end - start) % 24 or 24)]


def _near(label: str | None, hour: int, channel: str) -> None:
    """The window holds `hour`, or ends next to it: an hour the schedule rarely posts at cannot
    be called out, but the hour beside it can (Telegram's best, 06:00 UTC, gets ~4 posts a month)."""
    assert label is not None, channel
    hours = _hours(label)
    assert min(min(abs(h - hour), 24 - abs(h - hour)) for h in hours) <= 1, (channel, label, hour)


def _post_cells(sim) -> pd.DataFrame:
    posts = sim.organic_posts
    at = pd.to_datetime(posts["published_at"], utc=True)
    cells = pd.DataFrame({"channel": posts["platform"], "date": at.dt.tz_localize(None).dt.normalize(),
                          "weekday": at.dt.dayofweek, "hour": at.dt.hour, "posts": 1.0,
                          "views": posts["views"].astype(float)})
    return cells.groupby(["channel", "date", "weekday", "hour"], as_index=False).sum()


def test_timing_finds_each_channels_true_best_post_hour(sim):
    found = timing.by_group(_post_cells(sim), "views_per_post")
    assert set(found["channel"]) == {c for c, v in sim.truth["channels"].items() if v["best_post_hour"] is not None}
    for row in found.itertuples():
        _near(row.window, sim.truth["channels"][row.channel]["best_post_hour"], row.channel)
        assert 1 < row.lo <= row.ratio <= row.hi


def _ad_cells(sim, channel: str) -> pd.DataFrame:
    hourly = sim.hourly.merge(sim.campaigns[["campaign_key", "platform"]], on="campaign_key")
    cells = hourly[hourly["platform"] == channel].groupby(["date", "hour"], as_index=False)[
        ["spend", "impressions", "clicks", "conversions"]].sum()
    return cells.assign(weekday=cells["date"].dt.dayofweek)


@pytest.mark.parametrize("channel", ["facebook", "google_ads", "telegram"])
def test_timing_reads_the_simulators_ad_dayparts(sim, channel):
    cells = _ad_cells(sim, channel)
    # clicks are split in proportion to impressions: CTR has no best hour
    assert timing.analyse(cells, "ctr").best is None
    # conversions follow the delivery profile an hour late, so CR peaks where delivery falls fastest
    profile = hourly_profiles()[CHANNELS.index(channel)]
    lag = (np.roll(profile, 1, axis=1) / profile).mean(axis=0)
    best = timing.analyse(cells, "cr").best
    _near(best.label() if best else None, int(np.argmax(lag)), channel)
    cheapest = timing.analyse(cells, "cpa").best
    assert cheapest is not None and cheapest.hi < 1


def _flat(seed: int, days: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2026-01-01", periods=days, freq="D")
    day_level = rng.lognormal(0, 0.3, size=(days, 1))  # shared daily shocks, no hour effect
    posts = rng.poisson(3, size=(days, 24)).astype(float)
    views = posts * 4000 * day_level * rng.lognormal(0, 0.4, size=(days, 24))
    impressions = rng.poisson(20000 * day_level, size=(days, 24)).astype(float)
    clicks = rng.binomial(impressions.astype(int), 0.01).astype(float)
    return pd.DataFrame({"date": np.repeat(dates, 24), "weekday": np.repeat(dates.dayofweek, 24),
                         "hour": np.tile(np.arange(24), days), "posts": posts.ravel(), "views": views.ravel(),
                         "impressions": impressions.ravel(), "clicks": clicks.ravel()})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nothing_stands_out_on_flat_data(seed):
    cells = _flat(seed)
    for metric in ("views_per_post", "ctr"):
        for by, axis in (("hour", "hour"), ("weekday", "weekday")):
            found = timing.analyse(cells, metric, by=by)
            assert found.best is None, (metric, by, found.best)
            assert timing.sentence(found, "Posts published").startswith(f"No {axis} stands out")


def test_a_planted_window_is_named_with_its_size():
    cells = _flat(4)
    lift = cells["hour"].isin([20, 21])
    cells.loc[lift, "views"] *= 1.8
    found = timing.analyse(cells, "views_per_post")
    assert found.best is not None and found.best.label() == "20:00–22:00"
    assert found.best.lo < 1.8 / (1 + 2 * 0.8 / 24) < found.best.hi  # 1.8× over the average that includes it
    text = timing.sentence(found, "Posts published")
    assert text.startswith("Posts published 20:00–22:00 get ") and "× the average views per post (95%: " in text


def test_windows_wrap_around_midnight_and_the_week():
    flags = np.zeros(24, dtype=bool)
    flags[[22, 23, 0, 1, 5]] = True
    assert timing._around(0, flags) == (22, 4) and timing._around(5, flags) == (5, 1)
    assert timing.Window("hour", 22, 4, 1, 1, 1).label() == "22:00–02:00"
    assert timing.Window("weekday", 5, 2, 1, 1, 1).label() == "Sat–Sun"
    assert timing.Window("weekday", 6, 2, 1, 1, 1).label() == "Sun–Mon"
    assert timing.times(1.34, 1.31, 1.4) == ["1.34", "1.31", "1.40"]
    assert timing.times(1.8, 1.5, 2.1) == ["1.8", "1.5", "2.1"]


def test_too_few_days_are_said_to_be_too_few():
    found = timing.analyse(_flat(5, days=5), "ctr")
    assert found.best is None and timing.sentence(found, "Ads shown").startswith("Too few days of data (5)")
    assert timing.analyse(_flat(5).iloc[:0], "ctr").days == 0


# ---- The page, called as the functions Dash registered -----------------------------------

@pytest.fixture(scope="module")
def page(engine):
    from dashboard.app import create_app

    create_app()
    return sys.modules["pages.audience"]


def _store(f: Filters) -> dict:
    return ViewState("custom", f.date_from.isoformat(), f.date_to.isoformat(), channels=f.channels).to_store()


@pytest.mark.parametrize("by,metric", [("age_band", "cpa"), ("geo", "roas"), ("age_gender", "ctr")])
def test_who_responds_shows_the_query_layers_numbers(page, window, by, metric):
    figure, table = page.update_who(_store(window), by, metric)
    frame = aq.audience(None, window, by)
    trace = figure["data"][0]
    if by == "age_gender":
        z = frame.pivot(index="age_band", columns="gender", values=metric)
        assert trace["type"] == "heatmap"
        np.testing.assert_allclose(np.array(trace["z"], dtype=float), z.to_numpy(), rtol=1e-12)
    else:
        assert trace["y"] == pytest.approx(frame[metric].tolist())
        overall = mx.get(metric).compute(frame[list(aq.MEASURES)].sum())
        assert figure["layout"]["shapes"][0]["y0"] == pytest.approx(overall)
    assert len(table.data) == len(frame)
    shown = {c["id"] for c in table.columns}
    assert {"spend", "cpa", "ctr", "roas", "cpl"} <= shown
    assert "engagements" not in shown  # the demo's breakdowns carry no engagements: left out, not zeros


@pytest.mark.parametrize("source,metric", [("posts", "views_per_post"), ("hourly", "cr")])
def test_best_time_says_what_the_timing_module_says(page, window, source, metric):
    summary, figure, table, note = page.update_best_time(_store(window), source, metric, page.ALL)
    cells = (aq.post_cells if source == "posts" else aq.hourly_cells)(None, window)
    expected = timing.analyse(cells, metric, n_boot=page.data.TIMING_DRAWS)
    assert summary[0].children == timing.sentence(expected, page.SUBJECT[source])
    z = timing.grid(cells, metric).pivot(index="weekday", columns="hour", values="value")
    np.testing.assert_allclose(np.array(figure["data"][0]["z"], dtype=float), z.to_numpy(), rtol=1e-12)
    by_channel = (aq.post_cells if source == "posts" else aq.hourly_cells)(None, window, by_channel=True)
    per_channel = timing.by_group(by_channel, metric, n_boot=page.data.TIMING_DRAWS)
    assert [r["window"] for r in table.data] == per_channel["window"].fillna("no hour stands out").tolist()
    assert ("reporting time zone" in note) == (source == "posts")


def test_controls_follow_the_source_and_disable_channels_without_data(page, window):
    metrics, value, channels, channel = page.time_controls(_store(window), "posts", "ctr", "google_ads")
    assert [o["value"] for o in metrics] == ["views_per_post", "engagement_per_post"] and value == "views_per_post"
    disabled = {o["value"] for o in channels if o.get("disabled")}
    assert disabled == {"google_ads", "yandex_direct"} and channel == page.ALL


def test_empty_states_say_why(page):
    empty = Filters(dt.date(2020, 1, 1), dt.date(2020, 1, 31))
    figure, table = page.update_who(_store(empty), "age_band", "cpa")
    assert "No audience breakdown for these filters" in str(table.children) and not figure["data"]
    summary, figure, table, _ = page.update_best_time(_store(empty), "hourly", "ctr", page.ALL)
    assert summary.children == "No hour-of-day ad data for these filters." and table is None
