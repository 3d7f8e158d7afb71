"""Metric definitions against values computed by hand."""
import math

import pandas as pd
import pytest

from db import metrics as mx

SUMS = {"spend": 200.0, "revenue": 500.0, "impressions": 40_000, "reach": 16_000, "clicks": 800,
        "leads": 40, "conversions": 10, "engagements": 1_200, "video_views": 0}


@pytest.mark.parametrize("slug,expected", [
    ("ctr", 800 / 40_000), ("cpc", 200 / 800), ("cpm", 200 / 40_000 * 1000), ("cpl", 200 / 40),
    ("cpa", 200 / 10), ("cr", 10 / 800), ("roas", 500 / 200), ("roi", (500 - 200) / 200),
    ("frequency", 40_000 / 16_000), ("profit", 300.0), ("engagement_rate", 1_200 / 40_000),
])
def test_metric_matches_hand_computation(slug, expected):
    assert mx.get(slug).compute(SUMS) == pytest.approx(expected)


def test_ratio_of_sums_not_average_of_ratios():
    rows = pd.DataFrame({"spend": [100.0, 1.0], "revenue": [100.0, 10.0]})
    pooled = mx.get("roas").compute(rows.sum())
    assert pooled == pytest.approx(110 / 101)
    assert pooled != pytest.approx(mx.get("roas").compute(rows).mean())


def test_zero_denominator_is_undefined_not_infinite():
    assert math.isnan(mx.get("cpl").compute({**SUMS, "leads": 0}))
    series = mx.get("cpl").compute(pd.DataFrame({"spend": [10.0, 5.0], "leads": [2, 0]}))
    assert series.iloc[0] == 5.0 and math.isnan(series.iloc[1])


def test_formatting_by_kind():
    assert mx.get("spend").format(1234.5, "EUR") == "€1,234.50"
    assert mx.get("ctr").format(0.0123) == "1.23%"
    assert mx.get("roas").format(2.5) == "2.50×"
    assert mx.get("cpl").format(float("nan")) == "—"


def test_reach_says_it_is_not_unique():
    assert "not a people count" in mx.get("reach").description


def test_delta_pct():
    assert mx.delta_pct(120, 100) == pytest.approx(0.2)
    assert math.isnan(mx.delta_pct(5, 0))


def test_unknown_metric_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown metric"):
        mx.get("cpx")
