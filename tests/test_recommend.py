"""Fact builders and ranking: texts carry exactly the facts' numbers, in the registry's formats,
and nothing is said about results that are not significant."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from synthetic_mix import make_mix

from db.metrics import format_value
from modeling import budget
from modeling.compare import compare_channels
from modeling.llm import grounded, tokens
from modeling.recommend import (Fact, alert_facts, budget_facts, comparison_facts,
                                efficiency_facts, forecast_facts, rank)

LABELS = {"alpha": "Alpha", "beta": "Beta", "gamma": "Gamma", "delta": "Delta",
          "meta": "Meta", "google": "Google", "tiktok": "TikTok"}
KINDS = ("currency", "percent", "multiple", "ratio", "count")


def _check_numbers(fact: Fact, currency: str = "USD") -> None:
    """Every number of ``numbers`` is in the text as the registry prints it (percentages may
    carry a sign), and every number printed in the text (dates aside) is one of them."""
    for name, value in fact.numbers.items():
        printed = {format_value(v, kind, currency) for v in (value, abs(value)) for kind in KINDS}
        assert any(p in fact.text for p in printed), (name, value, fact.text)
    printed = [t.raw for t in tokens(fact.text) if t.date is None]
    assert grounded(" ; ".join(printed), [replace(fact, text="")]) == (True, []), fact.text


@pytest.fixture(scope="module")
def curves() -> budget.Curves:
    mix = make_mix(seed=0)
    return budget.fit(mix.daily, mix.outcome, seed=0, n_boot=4)


@pytest.fixture(scope="module")
def plan(curves: budget.Curves) -> budget.Plan:
    return budget.plan(curves, float(curves.current.sum()))


# ---------------------------------------------------------------------------------------------
# budget


def test_budget_facts_follow_the_plan(plan: budget.Plan) -> None:
    facts = budget_facts(plan, "USD", LABELS)
    total, *channels = facts
    assert total.key == "budget:total" and total.channel is None
    assert total.priority == pytest.approx(plan.uplift[0])
    assert total.numbers["gain"] == pytest.approx(plan.uplift[0])
    table = plan.table
    moved = table.index[table["change"].abs() >= 0.05]
    assert len(moved) >= 2 and sorted(f.channel for f in channels) == sorted(moved)
    for fact in facts:
        _check_numbers(fact)
        assert fact.kind == "budget"
    for fact in channels:
        row = table.loc[fact.channel]
        raise_ = row["change"] > 0
        assert fact.text.startswith(f"{LABELS[fact.channel]}: {'raise' if raise_ else 'cut'} ")
        assert fact.action == (f"Move budget to {LABELS[fact.channel]}" if raise_
                               else f"Move budget away from {LABELS[fact.channel]}")
        assert fact.numbers["current"] == pytest.approx(row["current"])
        assert fact.numbers["recommended"] == pytest.approx(row["recommended"])
        assert np.sign(fact.numbers["change"]) == np.sign(row["change"])
        assert fact.numbers["mroi"] == pytest.approx(row["mroi_now"])
        if raise_:  # compared with the worst channel money comes from, and vice versa
            assert fact.numbers["mroi_other"] < fact.numbers["mroi"]
        else:
            assert fact.numbers["mroi_other"] > fact.numbers["mroi"]
    # the channels' shares of the gain add up to about the plan's gain
    assert sum(f.priority for f in channels) == pytest.approx(plan.uplift[0], rel=0.2)


def test_budget_facts_in_another_currency(plan: budget.Plan) -> None:
    facts = budget_facts(plan, "EUR", LABELS)
    assert facts and all("$" not in f.text for f in facts)
    assert all("€" in f.text for f in facts)
    assert any("each extra euro" in f.text for f in facts)
    for fact in facts:
        _check_numbers(fact, "EUR")


def test_conversion_plans_speak_of_conversions_and_marginal_cost() -> None:
    mix = make_mix(seed=1)
    renamed = {"revenue": "conversions"}
    curves = budget.fit(mix.daily.rename(columns=renamed), mix.outcome.rename(columns=renamed),
                        target="conversions", seed=0, n_boot=4)
    plan = budget.plan(curves, float(curves.current.sum()), objective="conversions")
    facts = budget_facts(plan, "USD", LABELS)
    assert facts and "more conversions a day" in facts[0].text
    for fact in facts[1:]:
        mroi = plan.table.loc[fact.channel, "mroi_now"]
        assert fact.numbers["marginal_cost"] == pytest.approx(1 / mroi)
        assert "conversion" in fact.text and "returns" not in fact.text
    for fact in facts:
        _check_numbers(fact)


def test_an_insignificant_plan_says_nothing(curves: budget.Curves) -> None:
    total = float(curves.current.sum())
    assert budget_facts(budget.plan(curves, total, max_change=0.0), "USD", LABELS) == []
    tiny = budget.plan(curves, total, max_change=0.001)
    assert tiny.uplift[1] > 0                      # significant, but too small to matter
    assert budget_facts(tiny, "USD", LABELS) == []
    assert budget_facts(tiny, "USD", LABELS, min_gain=0.0)  # ...unless asked
    doubtful = replace(budget.plan(curves, total), uplift=(50.0, -5.0, 105.0))
    assert budget_facts(doubtful, "USD", LABELS) == []


# ---------------------------------------------------------------------------------------------
# efficiency

ROI = pd.DataFrame({
    "spend":           [3000.0, 6000.0, 3000.0, 3000.0, 3000.0],
    "reported_roi":    [1.8, 3.0, 1.4, 0.8, 1.0],
    "modelled_roi":    [0.6, 1.5, 1.0, 1.4, 0.95],
    "modelled_roi_lo": [0.5, 1.4, 0.6, 1.2, 0.8],
    "modelled_roi_hi": [0.7, 1.6, 1.6, 1.6, 1.1],
}, index=pd.Index(["meta", "google", "tiktok", "alpha", "beta"], name="channel"))


def test_efficiency_facts_find_losses_and_misreports() -> None:
    facts = {f.channel: f for f in efficiency_facts(ROI, "USD", LABELS, days=30)}
    # tiktok: 40 % apart, but the report is within the modelled interval; beta: 5 % apart
    assert set(facts) == {"meta", "google", "alpha"}
    meta, google, alpha = facts["meta"], facts["google"], facts["alpha"]
    assert meta.text.startswith("Meta loses money: each dollar spent there brings back $0.60")
    assert meta.priority == pytest.approx(100 * (1 - 0.6)) == meta.numbers["loss"]
    assert "$40.00 a day" in meta.text and "platform reports $1.80" in meta.text
    assert "judge it by the model's figure" in google.text
    assert "does better than its reports show" in alpha.text
    assert alpha.action == "Don't cut Alpha on its reported returns"
    # ranked by revenue misjudged once the typical over-claim (median 1.5 / 1.2...) is removed
    typical = np.median(ROI["reported_roi"] / ROI["modelled_roi"])
    assert google.priority == pytest.approx(200 * abs(3.0 / typical - 1.5))
    for fact in facts.values():
        _check_numbers(fact)
        assert fact.key == f"efficiency:{fact.channel}" and fact.kind == "efficiency"


def test_efficiency_facts_on_fitted_curves(curves: budget.Curves) -> None:
    facts = efficiency_facts(curves.roi, "USD", LABELS, days=len(curves.baseline))
    assert facts  # the synthetic platforms claim 1.5 × what they cause
    for fact in facts:
        _check_numbers(fact)
        row = curves.roi.loc[fact.channel]
        if "loses money" in fact.text:
            assert row["modelled_roi_hi"] < 1
        else:
            assert not row["modelled_roi_lo"] <= row["reported_roi"] <= row["modelled_roi_hi"]


def test_efficiency_in_conversions_reads_as_cost_per_conversion() -> None:
    facts = efficiency_facts(ROI / [1, 100, 100, 100, 100], "USD", LABELS, days=30,
                             target="conversions")
    assert {f.channel for f in facts} == {"meta", "google", "alpha"}  # no break-even rule
    meta = next(f for f in facts if f.channel == "meta")
    assert "cost of $55.56 per conversion" in meta.text and "$166.67" in meta.text
    for fact in facts:
        _check_numbers(fact)


# ---------------------------------------------------------------------------------------------
# comparison


def _comparison(verdicts: list[str]) -> pd.DataFrame:
    n = len(verdicts)
    return pd.DataFrame({
        "channel": ["tiktok", "google", "meta"][:n], "value": [3.2, 2.0, 1.1][:n],
        "lo": [2.9, 1.8, 0.9][:n], "hi": [3.5, 2.2, 1.3][:n],
        "prob_better": [0.99, 0.5, 0.01][:n], "verdict": verdicts,
        "prob_best": [0.97, 0.03, 0.0][:n], "rank": [1, 2, 3][:n], "rank_lo": [1, 2, 2][:n],
        "rank_hi": [1, 3, 3][:n]})


def test_comparison_names_a_sure_leader_and_laggard() -> None:
    facts = comparison_facts(_comparison(["better", "no clear difference", "worse"]), "roas",
                             "USD", LABELS)
    leader, laggard = facts
    assert leader.text == ("TikTok clearly beats the other channels on ROAS: 3.20× "
                           "(likely between 2.90× and 3.50×).")
    assert laggard.text.startswith("Meta clearly trails the other channels on ROAS: 1.10×")
    assert leader.priority == pytest.approx(min(abs(3.2 / np.median([2.0, 1.1]) - 1), 1))
    staked = comparison_facts(_comparison(["better", "no clear difference", "worse"]), "roas",
                              "USD", LABELS, stake={"tiktok": 500.0})
    assert staked[0].priority == pytest.approx(500 * leader.priority)
    assert staked[1].priority == 0.0
    for fact in facts:
        _check_numbers(fact)


def test_comparison_says_nothing_without_a_sure_verdict() -> None:
    unsure = _comparison(["likely better", "no clear difference", "likely worse"])
    assert comparison_facts(unsure, "roas", "USD", LABELS) == []
    assert comparison_facts(_comparison(["only one"]), "roas", "USD", LABELS) == []


def test_comparison_facts_on_a_real_comparison() -> None:
    daily = make_mix(seed=0).daily
    table = compare_channels(daily, "roas", n_boot=200)
    facts = comparison_facts(table, "roas", "EUR", LABELS)
    leaders = [f for f in facts if "beats" in f.text]
    assert [f.channel for f in leaders] == (
        [table.loc[0, "channel"]] if table.loc[0, "verdict"] == "better" else [])
    assert leaders  # beta's platform claims stand out in the synthetic mix
    for fact in facts:
        _check_numbers(fact, "EUR")


# ---------------------------------------------------------------------------------------------
# alerts


def _alerts() -> pd.DataFrame:
    rows = [
        ("2024-06-02", "meta", "Spring sale", "conversions", "drop", 3.0, 40.0, "high", "open"),
        ("2024-06-03", "meta", "Spring sale", "conversions", "drop", 0.0, 42.4, "high", "open"),
        ("2024-06-03", "google", "Brand", "spend", "spike", 9000.0, 1500.0, "high", "open"),
        ("2024-06-03", "tiktok", "Launch", "ctr", "drop", 0.001, 0.012, "high", "dismissed"),
        ("2024-06-03", "tiktok", "Launch", "cpc", "spike", 4.0, 1.0, "medium", "open"),
    ]
    frame = pd.DataFrame(rows, columns=["date", "channel", "campaign", "metric", "direction",
                                        "observed", "expected", "severity", "status"])
    return frame.assign(date=pd.to_datetime(frame["date"]), message="…")


def test_alert_facts_keep_open_high_alerts_latest_day() -> None:
    facts = {f.channel: f for f in alert_facts(_alerts(), "USD", LABELS)}
    assert set(facts) == {"meta", "google"}
    meta, google = facts["meta"], facts["google"]
    assert meta.text == ("Meta, campaign “Spring sale”: conversions fell to 0 on 3 Jun 2024, "
                         "against 42 expected.")
    assert meta.priority == pytest.approx(1.0)             # the whole expected volume gone
    assert google.text.startswith("Google, campaign “Brand”: spend jumped to $9,000.00")
    assert google.priority == pytest.approx(7500.0)        # money per day
    staked = {f.channel: f for f in alert_facts(_alerts(), "USD", LABELS, stake={"meta": 800})}
    assert staked["meta"].priority == pytest.approx(800.0)
    for fact in facts.values():
        _check_numbers(fact)
        assert grounded(fact.text, [fact]) == (True, [])  # its date comes from its own text
    two_days = alert_facts(_alerts().assign(days=2), "USD", LABELS)  # totals of the day and the one before
    assert {f.channel: f.text for f in two_days}["meta"] == (
        "Meta, campaign “Spring sale”: conversions fell to 0 over the two days to 3 Jun 2024, against 42 expected.")
    assert alert_facts(_alerts().assign(status="dismissed"), "USD", LABELS) == []
    assert alert_facts(_alerts().iloc[:0], "USD", LABELS) == []


# ---------------------------------------------------------------------------------------------
# forecast


def test_forecast_facts_only_for_changes_outside_the_interval() -> None:
    frame = pd.DataFrame({
        "channel":           ["meta", "google", "tiktok", "alpha"],
        "spend_next":        [20000.0, 9000.0, 5000.0, 5000.0],
        "revenue_next":      [40000.0, 36000.0, 10500.0, 9400.0],
        "revenue_next_lo95": [35000.0, 31000.0, 8000.0, 9200.0],
        "revenue_next_hi95": [45000.0, 41000.0, 13000.0, 9600.0],
        "spend_last":        [20000.0, 8000.0, 5000.0, 5000.0],
        "revenue_last":      [50000.0, 30000.0, 10000.0, 10000.0],
    })
    facts = {f.channel: f for f in forecast_facts(frame, "USD", LABELS)}
    # tiktok: last month inside the interval; alpha: outside, but only 6 % lower
    assert set(facts) == {"meta", "google"}
    meta, google = facts["meta"], facts["google"]
    assert meta.text == (
        "Meta: revenue over the next 30 days is forecast at $40.0k (likely between $35.0k and "
        "$45.0k), down 20.00% from $50.0k in the last 30 days; spend is forecast at $20.0k "
        "against $20.0k.")
    assert meta.priority == pytest.approx(10000 / 30) and meta.numbers["change"] < 0
    assert " up 20.00% " in google.text and google.action.startswith("Plan for higher")
    for fact in facts.values():
        _check_numbers(fact)
    assert {f.channel for f in forecast_facts(frame, "USD", LABELS, min_change=0.05)} == {
        "meta", "google", "alpha"}
    with pytest.raises(ValueError, match="revenue_next_lo95"):
        forecast_facts(frame.drop(columns="revenue_next_lo95"))


# ---------------------------------------------------------------------------------------------
# ranking


def _fact(key: str, kind: str, priority: float, channel: str | None) -> Fact:
    return Fact(key, kind, priority, channel, f"{key}.", {}, key)


def test_rank_orders_by_priority_with_one_budget_fact_per_channel() -> None:
    facts = [
        _fact("budget:total", "budget", 150.0, None),
        _fact("budget:meta", "budget", 90.0, "meta"),
        _fact("budget:meta:alternative", "budget", 95.0, "meta"),
        _fact("efficiency:meta", "efficiency", 90.0, "meta"),
        _fact("alert:google", "alert", 90.0, "google"),
        _fact("forecast:tiktok", "forecast", 300.0, "tiktok"),
        _fact("comparison:roas:tiktok", "comparison", float("nan"), "tiktok"),
        _fact("budget:tiktok", "budget", 10.0, "tiktok"),
    ]
    expected = ["forecast:tiktok", "budget:total", "budget:meta:alternative", "alert:google",
                "efficiency:meta"]
    for seed in range(5):
        shuffled = random.Random(seed).sample(facts, len(facts))
        assert [f.key for f in rank(shuffled)] == expected
    assert [f.key for f in rank(facts, top=2)] == expected[:2]
    everything = [f.key for f in rank(facts, top=10)]
    assert everything == expected + ["budget:tiktok", "comparison:roas:tiktok"]
    assert "budget:meta" not in everything
    assert rank(facts + facts, top=10) == rank(facts, top=10)  # same key once
    assert rank([]) == []


def test_rank_on_real_facts(plan: budget.Plan, curves: budget.Curves) -> None:
    facts = (budget_facts(plan, "USD", LABELS)
             + efficiency_facts(curves.roi, "USD", LABELS, days=len(curves.baseline)))
    top = rank(facts, top=3)
    assert len(top) == 3
    assert [f.priority for f in top] == sorted((f.priority for f in top), reverse=True)
    assert max(f.priority for f in facts) == top[0].priority
