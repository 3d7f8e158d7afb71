"""Channel comparison: ratio-of-sums values, interval coverage, verdicts and ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modeling.compare import compare_channels

DATES = pd.date_range("2024-01-01", periods=60, freq="D")


def _daily(rng: np.random.Generator, channels: dict[str, dict[str, float]],
           days: int = 60) -> pd.DataFrame:
    """Channels with a given true ROAS, CTR, CR and CPL; daily rates vary (overdispersed)."""
    rows = []
    for name, p in channels.items():
        spend = rng.gamma(4.0, 25.0, days)
        impressions = rng.poisson(spend * 200)
        ctr = np.clip(p["ctr"] * rng.lognormal(-0.15**2 / 2, 0.15, days), 0, 1)
        clicks = rng.binomial(impressions, ctr)
        conversions = rng.binomial(clicks, p.get("cr", 0.05))
        rows.append(pd.DataFrame({
            "date": DATES[:days], "channel": name, "spend": spend,
            "revenue": spend * p["roas"] * rng.lognormal(-0.125, 0.5, days),
            "impressions": impressions, "clicks": clicks,
            "leads": rng.poisson(spend / p.get("cpl", 10.0)), "conversions": conversions}))
    return pd.concat(rows, ignore_index=True)


def test_value_is_ratio_of_sums_not_mean_of_daily_ratios() -> None:
    daily = pd.DataFrame({
        "date": DATES[:2].repeat(2), "channel": ["a", "b"] * 2,
        "spend": [1.0, 10.0, 99.0, 10.0], "revenue": [10.0, 20.0, 99.0, 20.0],
        "impressions": 100, "clicks": 10, "leads": 1, "conversions": [1, 2, 0, 2]})
    out = compare_channels(daily, "roas", n_boot=200).set_index("channel")
    assert out.loc["a", "value"] == pytest.approx(109 / 100)  # mean of daily ratios = 5.5
    cpa = compare_channels(daily, "cpa", n_boot=200).set_index("channel")
    assert cpa.loc["a", "value"] == pytest.approx(100.0)


@pytest.mark.parametrize("metric, truth", [("roas", 2.0), ("ctr", 0.02)])
def test_intervals_cover_the_true_value(metric: str, truth: float) -> None:
    rng = np.random.default_rng(7)
    hits = []
    for rep in range(120):
        daily = _daily(rng, {"a": {"roas": 2.0, "ctr": 0.02}, "b": {"roas": 3.0, "ctr": 0.03}})
        row = compare_channels(daily, metric, n_boot=300, seed=rep).set_index("channel")
        hits.append(row.loc["a", "lo"] <= truth <= row.loc["a", "hi"])
    # 95 % nominal; the bootstrap of 60 days runs slightly narrow, a binomial interval that
    # ignored the day-to-day CTR swing would cover about 45 % here.
    assert np.mean(hits) >= 0.88


def test_clear_winner_is_called_better_and_ranked_first() -> None:
    rng = np.random.default_rng(3)
    daily = _daily(rng, {"a": {"roas": 4.0, "ctr": 0.02}, "b": {"roas": 2.0, "ctr": 0.02},
                         "c": {"roas": 2.0, "ctr": 0.02}})
    out = compare_channels(daily, "roas", n_boot=500)
    best = out.iloc[0]
    assert best["channel"] == "a" and best["verdict"] == "better"
    assert best["prob_best"] > 0.95 and best["rank_lo"] == best["rank_hi"] == 1
    assert set(out.iloc[1:]["verdict"]) <= {"worse", "likely worse"}


def test_identical_channels_are_not_told_apart() -> None:
    rng = np.random.default_rng(5)
    one = _daily(rng, {"a": {"roas": 2.0, "ctr": 0.02}})
    daily = pd.concat([one.assign(channel=name) for name in "abc"], ignore_index=True)
    for metric in ("roas", "cr"):
        out = compare_channels(daily, metric, n_boot=300)
        assert (out["verdict"] == "no clear difference").all(), metric
        assert out["prob_best"].to_numpy() == pytest.approx([1 / 3] * 3, abs=0.1), metric


def test_ranks_of_similar_channels_overlap() -> None:
    rng = np.random.default_rng(8)
    daily = _daily(rng, {name: {"roas": 2.0, "ctr": 0.02} for name in "abcd"})
    out = compare_channels(daily, "roas", n_boot=500)
    assert (out["rank_hi"] > out["rank_lo"]).all()
    assert out["prob_best"].max() < 0.9


def test_cost_metrics_rank_cheapest_first_and_undefined_last() -> None:
    rng = np.random.default_rng(11)
    daily = _daily(rng, {"cheap": {"roas": 2, "ctr": 0.02, "cpl": 5.0},
                         "dear": {"roas": 2, "ctr": 0.02, "cpl": 20.0},
                         "none": {"roas": 2, "ctr": 0.02, "cpl": 1e9}})
    daily.loc[daily["channel"] == "none", "leads"] = 0
    out = compare_channels(daily, "cpl", n_boot=300)
    assert list(out["channel"]) == ["cheap", "dear", "none"]
    assert out.iloc[0]["verdict"] == "better"
    assert np.isnan(out.iloc[2]["value"]) and out.iloc[2]["verdict"] == "worse"


def test_same_seed_same_answer_and_campaign_grouping() -> None:
    rng = np.random.default_rng(2)
    daily = _daily(rng, {"a": {"roas": 2, "ctr": 0.02}, "b": {"roas": 2.5, "ctr": 0.02}})
    daily["campaign"] = daily["channel"] + "-" + (daily.index % 2).astype(str)
    first = compare_channels(daily, "roi", n_boot=200, seed=1, by="campaign")
    pd.testing.assert_frame_equal(first, compare_channels(daily, "roi", n_boot=200, seed=1,
                                                          by="campaign"))
    assert sorted(first["campaign"]) == ["a-0", "a-1", "b-0", "b-1"]
    assert (first["lo"] <= first["value"]).all() and (first["value"] <= first["hi"]).all()
