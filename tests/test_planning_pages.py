"""The Compare, Forecast and Budget pages' callbacks on committed demo data.

Compare goes through Dash's HTTP endpoint as the browser calls it (so its output must also
serialise); the others are called as the functions Dash registered, from the page modules as
Dash loaded them ("pages.budget": importing dashboard.pages.budget would register a second copy).
What they show must be what the query layer and the models give for the same inputs.
"""
from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pytest
from sqlalchemy import delete

from dash_client import post, view_store

from dashboard import data
from db import models as m
from db import planning_queries as pq
from db import queries
from db.filters import Filters
from db.session import unit_of_work
from jobs.planning_tasks import PlanningJobConfig, fit_curves, forecast
from modeling import budget, curves_io
from modeling.compare import compare_channels

FAST = PlanningJobConfig(n_boot=4, max_folds=1)


@pytest.fixture(scope="module")
def app(engine):
    from dashboard.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def stored(demo_db, app):
    """Fresh curves and forecast runs for the data as it is now."""
    with unit_of_work() as c:
        c.execute(delete(m.PlanningForecast))
        c.execute(delete(m.PlanningArtefact))
    fit_curves("t-pages", attempt=1, config=FAST)
    forecast("t-pages", attempt=1, config=FAST)
    return demo_db


@pytest.fixture(scope="module")
def curves(stored) -> budget.Curves:
    return curves_io.from_bytes(pq.payload(None, pq.latest(None, pq.CURVES).id))["revenue"]


def page(name: str):
    return sys.modules[f"pages.{name}"]


def window(days: int = 28) -> Filters:
    _, end = queries.date_bounds()
    return Filters(end - dt.timedelta(days=days - 1), end)


@pytest.mark.parametrize("metric,level,channels", [
    ("roas", "channel", ()), ("cpa", "channel", ("facebook", "google_ads", "tiktok")), ("ctr", "channel", ()),
    ("roi", "campaign", ()),
])
def test_compare_page_shows_compare_channels_of_the_query_layer(app, demo_db, metric, level, channels):
    f = Filters(window().date_from, window().date_to, channels=channels)
    shown = post(app, "cmp-forest.figure", {"view-state.data": view_store(f), "cmp-metric.value": metric,
                                            "cmp-level.value": level, "cmp-top.value": 5})
    rows = shown["cmp-table"]["data"]
    by = "channel" if level == "channel" else "campaign_id"
    daily = queries.daily_by(None, f, by="channel" if level == "channel" else "campaign")
    if level == "campaign":
        spend = daily.groupby(by)["spend"].sum()
        daily = daily[daily[by].isin(spend.nlargest(5).index)]
    expected = compare_channels(daily, metric, n_boot=data.COMPARE_DRAWS, by=by)
    assert [r["key"] for r in rows] == expected[by].tolist()  # same rows, same order (best first)
    for row, want in zip(rows, expected.itertuples()):
        for column in ("value", "lo", "hi", "prob_better", "prob_best"):
            assert row[column] == pytest.approx(getattr(want, column), rel=1e-9), (row["key"], column)
        assert (row["rank"], row["verdict"]) == (want.rank, want.verdict)
        lo, hi = int(want.rank_lo), int(want.rank_hi)
        assert row["rank_range"] == (str(lo) if lo == hi else f"{lo}–{hi}")
    badges = [b["props"]["children"] for b in shown["cmp-verdicts"]["children"]]
    assert len(badges) == len(rows)
    figure = shown["cmp-forest"]["figure"]
    assert figure["data"][0]["x"] == pytest.approx(expected["value"].tolist())
    if level == "campaign":  # every campaign row opens that campaign's explanation
        assert all(f"](/explain/{row['key']}?" in row["label"] for row in rows)
        assert not any("](" in str(y) for y in figure["data"][0]["y"])


def test_verdict_wording_says_how_sure():
    text = page("compare").verdict_text
    assert text("better", 0.97) == "better than the rest — 97% sure"
    assert text("worse", 0.004) == "worse than the rest — >99% sure"
    assert text("no clear difference", 0.55).startswith("no clear difference from the rest (55%")


def test_optimiser_splits_the_whole_budget_within_the_limits(stored, curves):
    now = curves.current
    total = round(float(now.sum()) * 1.1)
    capped = curves.channels[0]
    limits = [{"channel": c, "min": None, "max": float(now[c]) if c == capped else None} for c in curves.channels]
    summary, rows, plan = page("budget").recommend(total, "revenue", None, 20, limits)
    split = plan["split"]
    assert sum(split.values()) == pytest.approx(total, rel=1e-6)
    for c in curves.channels:
        assert now[c] * 0.8 * (1 - 1e-6) <= split[c] <= now[c] * 1.2 * (1 + 1e-6), c
    assert split[capped] <= now[capped] * (1 + 1e-6)
    assert [r["recommended"] for r in rows] == [split[c] for c in curves.channels]
    direct = budget.plan(curves, total, max_change=0.2, bounds={capped: (None, float(now[capped]))})
    assert split == direct.split and plan["uplift"] == list(direct.uplift)


def test_optimiser_explains_an_impossible_budget(stored, curves):
    summary, rows, plan = page("budget").recommend(float(curves.current.sum()) * 3, "revenue", None, 10, [])
    assert plan is None and rows == []
    assert "No split fits these limits" in summary.children


def test_what_if_predicts_what_the_curves_predict(stored, curves):
    ids = [{"type": "bu-slider", "channel": c} for c in curves.channels]
    values = list(np.linspace(0.5, 2.0, len(ids)) * curves.current.to_numpy())
    result = page("budget").what_if(values, "revenue", ids)
    mean = result.children[0].children[1]
    expected = budget.predict_outcome(curves, dict(zip(curves.channels, values)))
    shown = tuple(float(getattr(mean, f"data-{k}")) for k in ("value", "lo", "hi"))
    assert shown == pytest.approx(expected, rel=1e-12)


def test_reset_returns_the_recommended_split(stored, curves):
    budget_page = page("budget")
    _, _, plan = budget_page.recommend(float(curves.current.sum()), "revenue", None, 30, [])
    ids = [{"type": "bu-slider", "channel": c} for c in reversed(curves.channels)]
    tops = [1.0] * len(ids)  # too short for the split: the ranges must grow to fit it
    values, maxima = budget_page.reset_to_recommended(1, plan, ids, tops)
    assert values == [plan["split"][i["channel"]] for i in ids]
    assert all(top >= value for top, value in zip(maxima, values))


def test_forecast_page_shows_the_stored_run(stored):
    forecast_page = page("forecast")
    run = pq.latest(None, pq.FORECAST)
    figure, card = forecast_page.update_forecast("facebook", "revenue", 7)
    mean = next(t for t in figure["data"] if t["name"] == "Forecast")
    assert mean["y"] == pytest.approx(pq.forecast(None, run.id, "facebook", "revenue")["mean"].head(7).tolist())
    actual = next(t for t in figure["data"] if t["name"] == "Actual")
    assert len(actual["x"]) == forecast_page.history_days(7)
    assert card.id == "fc-quality-card"


@pytest.mark.parametrize("name", ["forecast", "budget"])
def test_pages_say_why_there_is_nothing_to_show(stored, monkeypatch, name):
    module = page(name)
    monkeypatch.setattr(module.data, "planning_run", lambda kind: None)
    assert "runs in the next hourly cycle" in str(module.layout().to_plotly_json())
    short = pq.Artefact(1, "any", pq.INSUFFICIENT, "v", dt.datetime.now(dt.timezone.utc), None, None,
                        {"days": 20, "needed": 84, "message": "20 days of data with spend; 84 are needed"})
    monkeypatch.setattr(module.data, "planning_run", lambda kind: short)
    shown = str(module.layout().to_plotly_json())
    assert "Not enough data yet: 20 days of data with spend; 84 are needed." in shown


def test_budget_page_sets_each_lift_test_beside_what_the_curves_imply(stored, curves):
    stored_tests = pq.lift_tests(None, "revenue")
    in_window = stored_tests[(stored_tests["date_from"] >= curves.baseline.index[0])
                             & (stored_tests["date_to"] <= curves.baseline.index[-1])]
    assert len(in_window) > 0  # the demo publishes its first tests within 120 days
    rows, note = page("budget").update_lift("revenue")
    assert note == f"{len(in_window)} lift tests calibrate these revenue curves."
    assert [r["channel"] for r in rows] == curves.lift["channel"].tolist()
    assert sorted(r["channel"] for r in rows) == sorted(in_window["channel"])
    first = curves.lift.iloc[0]
    assert rows[0]["measured"].startswith(f"${first['lift']:,.0f}".split(",")[0])
    gap = abs(first["modelled"] - first["lift"]) / first["standard_error"]
    assert (rows[0]["agreement"] == "within its error") == (gap <= 2)
    assert rows[0]["measured"].endswith(f"± {first['standard_error'] / first['lift']:.0%}")


def _data_url(text: str) -> str:
    import base64

    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_budget_page_stores_an_uploaded_results_file_whole_or_not_at_all(stored, monkeypatch):
    budget_page = page("budget")
    before = len(pq.lift_tests(None))
    bad = ("channel,date_from,date_to,metric,lift,standard_error\n"
           "tiktok,2026-05-01,2026-05-28,revenue,1000,100\nsnapchat,2026-05-01,2026-05-28,revenue,900,90\n")
    shown = budget_page.upload_lift_tests(_data_url(bad), "bad.csv", None)
    assert shown.id == "bu-lift-error" and "row 2: unknown channel 'snapchat'" in shown.children
    assert len(pq.lift_tests(None)) == before

    good = ("channel,liftStartDate,liftEndDate,liftAbs,ci_low,ci_high\n"
            "tiktok,2026-05-01,2026-05-28,1000,800,1200\ninstagram,2026-05-01,2026-05-28,2000,1500,2500\n")
    from db.config import get_settings

    monkeypatch.setenv("DEMETRA_ADMIN_TOKEN", "right")  # a server with an admin token set
    get_settings.cache_clear()
    refused = budget_page.upload_lift_tests(_data_url(good), "good.csv", "wrong")
    assert "admin token" in refused.children and len(pq.lift_tests(None)) == before
    try:
        shown = budget_page.upload_lift_tests(_data_url(good), "good.csv", "right")
        assert shown.id == "bu-lift-stored" and shown.children.startswith("Stored 2 lift-test results")
        added = pq.lift_tests(None).query("source == 'upload good.csv'")
        assert sorted(added["channel"]) == ["instagram", "tiktok"]
        assert added.set_index("channel").loc["tiktok", "standard_error"] == pytest.approx(400 / (2 * 1.959964))
    finally:
        monkeypatch.delenv("DEMETRA_ADMIN_TOKEN")
        get_settings.cache_clear()
        with unit_of_work() as c:
            c.execute(delete(m.LiftTest).where(m.LiftTest.source == "upload good.csv"))
