"""Lift tests: simulated as the truth says, read from files, stored whole or not at all, and
used by the curve fit to size channels the business totals cannot."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, select
from synthetic_mix import BETA, CHANNELS, DECAY, K, N, make_mix

from db import models as m
from db import planning_queries as pq
from db.ingest import IngestError, ingest_lift_tests, ingest_fx
from db.queries import data_version
from jobs.__main__ import main as jobs_main
from jobs.sources.lift import read_lift_tests
from jobs.sources.upload import UploadError
from modeling import budget, curves_io
from modeling.response import geometric_adstock, hill
from modeling.simulator import SimConfig, simulate
from modeling.simulator import experiments as ex
from modeling.simulator.response import incremental_conversions, season_multiplier
from modeling.simulator.plan import SEASON, channel_series


# --- the simulator's experiments ------------------------------------------------------------

@pytest.fixture(scope="module")
def sim():
    return simulate(SimConfig(seed=5, days=365, end_date=dt.date(2026, 11, 25)))


def test_simulated_tests_measure_the_true_lift_within_their_error(sim) -> None:
    tests = sim.lift_tests
    truth = sim.truth["channels"]
    dates = pd.date_range(sim.truth["start_date"], sim.truth["end_date"], freq="D")
    spend, _ = channel_series(5, truth, dates)
    season = season_multiplier(dates, SEASON)
    channels = list(truth)
    assert set(tests["channel"]) == set(channels) and set(tests["metric"]) == {"revenue", "conversions"}
    ratios = []
    for r in tests[tests["metric"] == "revenue"].itertuples():
        c = channels.index(r.channel)
        window = (dates >= r.date_from) & (dates <= r.date_to)
        assert window.sum() == ex.TEST_DAYS
        held = np.where(window, 0.0, spend[:, c])
        true = (incremental_conversions(truth[r.channel], spend[:, c], season)[window].sum()
                - incremental_conversions(truth[r.channel], held, season)[window].sum())
        true *= truth[r.channel]["value_per_conversion"]
        assert r.standard_error == pytest.approx(ex.CV * true, rel=1e-6, abs=0.01)
        assert r.spend == pytest.approx(spend[window, c].sum(), abs=0.01)
        ratios.append(r.lift / true)
    ratios = np.array(ratios)
    assert np.all(np.abs(ratios - 1) < 4 * ex.CV) and np.std(ratios) > 0.02  # noisy, not exact


def test_a_longer_window_reveals_more_tests_and_keeps_the_published_ones(sim) -> None:
    shorter = simulate(SimConfig(seed=5, days=200, start_date=dt.date.fromisoformat(
        sim.truth["start_date"])))
    assert 0 < len(shorter.lift_tests) < len(sim.lift_tests)
    last_day = pd.Timestamp(shorter.truth["end_date"])
    assert (shorter.lift_tests["date_to"] + pd.Timedelta(days=ex.REPORT_LAG_DAYS) <= last_day).all()
    merged = shorter.lift_tests.merge(sim.lift_tests, on=["channel", "date_from", "metric"])
    assert len(merged) == len(shorter.lift_tests)
    assert (merged["lift_x"] == merged["lift_y"]).all()


# --- the fit -------------------------------------------------------------------------------

def _true_lift(spend: np.ndarray, c: int, window: np.ndarray) -> float:
    def response(x: np.ndarray) -> np.ndarray:
        return BETA[c] * hill(geometric_adstock(x[:, None], DECAY[c:c + 1]), K[c], N[c])[:, 0]
    return float((response(spend[:, c]) - response(np.where(window, 0.0, spend[:, c])))[window].sum())


@pytest.fixture(scope="module")
def noisy():
    """Business totals with 6 % daily noise: too noisy to size every channel on their own."""
    mix = make_mix(seed=3, noise=0.06)
    dates = pd.to_datetime(mix.outcome["date"])
    rows = []
    for c, channel in enumerate(CHANNELS):
        for start in (60, 200):
            window = np.zeros(len(dates), bool)
            window[start:start + 28] = True
            true = _true_lift(mix.spend, c, window)
            rows.append({"channel": channel, "date_from": dates[start], "date_to": dates[start + 27],
                         "lift": true, "standard_error": 0.05 * true})
    return mix, pd.DataFrame(rows)


def test_lift_tests_size_the_channels_the_totals_cannot(noisy) -> None:
    mix, tests = noisy
    outside = pd.DataFrame([{"channel": "alpha", "date_from": "2030-01-01", "date_to": "2030-01-28",
                             "lift": 1.0, "standard_error": 1.0},
                            {"channel": "nobody", "date_from": tests["date_from"][0],
                             "date_to": tests["date_to"][0], "lift": 1.0, "standard_error": 1.0}])
    with_tests = budget.fit(mix.daily, mix.outcome, n_boot=10,
                            lift_tests=pd.concat([tests, outside], ignore_index=True))
    without = budget.fit(mix.daily, mix.outcome, n_boot=10)
    order = [CHANNELS.index(c) for c in with_tests.channels]
    truth = mix.true_roi()[order]
    error_with = np.abs(with_tests.modelled_roi.to_numpy() / truth - 1)
    error_without = np.abs(without.modelled_roi.to_numpy() / truth - 1)
    assert error_with.max() < 0.04 and error_with.max() < error_without.max() / 2

    lift = with_tests.lift  # the two tests outside the data (or its channels) are left out
    assert len(lift) == len(tests) and set(lift["channel"]) == set(CHANNELS)
    within = (lift["modelled"] - lift["lift"]).abs() / lift["standard_error"]
    assert (within < 2.5).all()
    assert (lift["modelled_lo"] <= lift["modelled"]).all() and (lift["modelled"] <= lift["modelled_hi"]).all()
    assert without.lift.empty

    again = curves_io.from_bytes(curves_io.to_bytes({"revenue": with_tests}))["revenue"]
    pd.testing.assert_frame_equal(again.lift, lift)


def test_lift_tests_need_their_columns_and_the_outcome(noisy) -> None:
    mix, tests = noisy
    with pytest.raises(ValueError, match="standard_error"):
        budget.fit(mix.daily, mix.outcome, n_boot=2, lift_tests=tests.drop(columns="standard_error"))
    with pytest.raises(ValueError, match="needs claims and outcome"):
        budget.fit(mix.daily, None, n_boot=2, lift_tests=tests)


# --- files and storage ------------------------------------------------------------------------

ROBYN = b"""channel,liftStartDate,liftEndDate,liftAbs,ci_low,ci_high,spend
Meta,2026-03-01,2026-03-28,"$120,000.00",90000,150000,"55,000"
"""


def test_reader_takes_robyn_names_and_a_95_interval() -> None:
    frame = read_lift_tests(ROBYN, "robyn.csv")
    row = frame.iloc[0]
    assert (row["channel"], row["metric"], row["lift"], row["spend"]) == ("facebook", "revenue", 120000, 55000)
    assert row["standard_error"] == pytest.approx(60000 / (2 * 1.959964))
    with pytest.raises(UploadError, match="standard_error"):
        read_lift_tests(b"channel,date_from,date_to,lift\ntiktok,2026-01-01,2026-01-28,5\n", "x.csv")


def _stored(conn) -> pd.DataFrame:
    """What this file's tests wrote (the committed demo data may hold its own lift tests)."""
    return pd.DataFrame(conn.execute(select(m.LiftTest.platform, m.LiftTest.metric, m.LiftTest.lift,
                                            m.LiftTest.standard_error, m.LiftTest.spend_rc)
                                     .where(m.LiftTest.source == "test")).all())


def test_tests_are_converted_stored_and_replaced(conn) -> None:
    from db.ingest import ensure_platforms

    ensure_platforms(conn, ["tiktok", "vk_ads"])
    ingest_fx(conn, pd.DataFrame({"date": ["2026-01-20"], "currency": ["RUB"], "rate": [0.01]}))
    before = data_version(conn)
    rows = pd.DataFrame({"channel": ["TikTok", "vk_ads"], "date_from": ["2026-01-01", "2026-01-01"],
                         "date_to": ["2026-01-28", "2026-01-28"], "metric": ["revenue", "conversions"],
                         "lift": [5_000_000.0, 300.0], "standard_error": [500_000.0, 40.0],
                         "spend": [2_000_000.0, None], "currency": ["RUB", "RUB"]})
    assert ingest_lift_tests(conn, rows, "USD", source="test") == 2
    stored = _stored(conn).set_index("platform")
    assert stored.loc["tiktok", "lift"] == pytest.approx(50_000)  # revenue and spend converted
    assert stored.loc["tiktok", "spend_rc"] == pytest.approx(20_000)
    assert stored.loc["vk_ads", "lift"] == 300.0 and stored.loc["vk_ads", "standard_error"] == 40.0
    assert pd.isna(stored.loc["vk_ads", "spend_rc"])
    assert data_version(conn) != before

    ingest_lift_tests(conn, rows.iloc[:1].assign(lift=6_000_000.0), "USD", source="test")  # restated
    assert len(_stored(conn)) == 2
    assert _stored(conn).set_index("platform").loc["tiktok", "lift"] == pytest.approx(60_000)
    read = pq.lift_tests(conn, "revenue").query("source == 'test'")
    assert list(read["channel"]) == ["tiktok"] and read["date_to"].iloc[0] == pd.Timestamp("2026-01-28")


def test_a_bad_file_names_every_problem_and_writes_nothing(conn) -> None:
    from db.ingest import ensure_platforms

    ensure_platforms(conn, ["tiktok"])
    before = conn.execute(select(func.count()).select_from(m.LiftTest)).scalar()
    rows = pd.DataFrame({"channel": ["tiktok", "snapchat", "tiktok"],
                         "date_from": ["2026-01-01", "2026-01-01", "soon"],
                         "date_to": ["2025-12-01", "2026-01-28", "2026-01-28"],
                         "metric": ["revenue", "revenue", "clicks"], "lift": [1.0, 1.0, 1.0],
                         "standard_error": [1.0, 0.0, 1.0]})
    with pytest.raises(IngestError) as caught:
        ingest_lift_tests(conn, rows, "USD", source="test")
    message = str(caught.value)
    for expected in ("row 1: date_to is before date_from", "row 2: unknown channel 'snapchat'",
                     "row 2: standard_error must be a positive number", "row 3: date_from and date_to",
                     "row 3: metric must be revenue or conversions"):
        assert expected in message
    assert conn.execute(select(func.count()).select_from(m.LiftTest)).scalar() == before


def test_cli_import_refuses_a_bad_file_whole(demo_db, tmp_path, caplog) -> None:
    from db.session import unit_of_work

    good = tmp_path / "tests.csv"
    good.write_text("channel,date_from,date_to,metric,lift,standard_error\n"
                    "tiktok,2026-04-01,2026-04-28,revenue,1000,100\n"
                    "instagram,2026-04-01,2026-04-28,revenue,2000,200\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("channel,date_from,date_to,metric,lift,standard_error\n"
                   "tiktok,2026-05-01,2026-05-28,revenue,1000,100\n"
                   "tiktok,2026-05-01,2026-05-28,revenue,abc,100\n")
    try:
        with caplog.at_level(logging.ERROR, logger="demetra"):
            assert jobs_main(["lift-import", str(bad)]) == 2
        assert "row 2: lift must be a number" in caplog.text and "nothing was written" in caplog.text
        assert len(pq.lift_tests(None).query("source == 'file bad.csv'")) == 0
        assert jobs_main(["lift-import", str(good)]) == 0
        assert len(pq.lift_tests(None).query("source == 'file tests.csv'")) == 2
    finally:
        with unit_of_work() as c:
            c.execute(delete(m.LiftTest).where(m.LiftTest.source.like("file %")))


def test_reader_reads_dates_as_uploads_do_and_defaults_the_metric() -> None:
    frame = read_lift_tests(b"channel;date_from;date_to;metric;lift;se\n"
                            b"vk;01.06.2026;28.06.2026;;1000;100\n"
                            b"tiktok;13/07/2026;09/08/2026;conversions;50;5\n", "eu.csv")
    assert frame["date_from"].tolist() == ["2026-06-01", "2026-07-13"]
    assert frame["date_to"].tolist() == ["2026-06-28", "2026-08-09"]
    assert frame["metric"].tolist() == ["revenue", "conversions"]


def test_curves_without_lift_tests_store_and_load(noisy) -> None:
    mix, _ = noisy
    for outcome in (mix.outcome, None):
        fitted = budget.fit(mix.daily, outcome, n_boot=2)
        assert fitted.lift.empty
        again = curves_io.from_bytes(curves_io.to_bytes({"revenue": fitted}))["revenue"]
        assert again.lift.empty and list(again.lift.columns) == list(fitted.lift.columns)
