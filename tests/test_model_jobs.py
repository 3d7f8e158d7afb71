"""The hourly model steps on committed demo data: retrain only when something changed, never
promote a worse model, and score every campaign with additive SHAP and its real ROI.

Run with OMP_WAIT_POLICY=PASSIVE (see bench/bench_roi_model.py): XGBoost's idle threads spin.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, select

from db import model_queries as mq
from db import models as m
from db import queries
from db.filters import Filters
from db.ingest import bump_data_version
from db.session import get_engine, unit_of_work
from jobs.modeling_tasks import ModelJobConfig, decide, retrain, score
from modeling import roi_model

TARGET = ModelJobConfig().target


@pytest.fixture()
def registry(demo_db):
    """An empty model registry on the committed demo data (other tests may have trained)."""
    with unit_of_work() as c:
        c.execute(delete(m.CampaignScore))
        c.execute(delete(m.ModelVersion))
        c.execute(delete(m.AppState).where(m.AppState.key == mq.RETRAIN_STATE))
    return demo_db


def _runs(cycle_id: str) -> list[tuple]:
    with get_engine().connect() as c:
        return c.execute(select(m.SyncRun.step, m.SyncRun.status, m.SyncRun.rows)
                         .where(m.SyncRun.cycle_id == cycle_id)).all()


def _new_data_version() -> None:
    """What every sync does when rows land, without changing any row."""
    with unit_of_work() as c:
        bump_data_version(c)


def _window() -> tuple[dt.date, dt.date]:
    end = mq.last_complete_day(None, dt.datetime.now(dt.timezone.utc).date())
    return end - dt.timedelta(days=ModelJobConfig().score_days - 1), end


def test_campaign_day_frame_reconciles_with_the_query_layer(demo_db):
    start, end = _window()
    frame = mq.campaign_day_frame(None, start, end)
    totals = queries.totals(None, Filters(start, end))
    assert frame["spend"].sum() == pytest.approx(totals["spend"], rel=1e-9)
    assert frame["revenue"].sum() == pytest.approx(totals["revenue"], rel=1e-9)
    assert not frame.duplicated(["date", "campaign_id"]).any()
    assert frame[["channel", "objective", "segment", "geo", "campaign"]].notna().all().all()
    assert (frame["duration_days"] >= 0).all()


def test_first_model_is_promoted_and_unchanged_data_is_skipped(registry):
    rows = retrain("t-first", attempt=1)
    active = mq.active_model(None, TARGET)
    assert rows > 0 and active is not None
    assert (active.version, active.status, active.rows) == (1, "promoted", rows)
    assert active.data_version == queries.data_version()
    assert active.card["verdict"] and "first model" in active.note
    assert _runs("t-first") == [("retrain", "ok", rows)]

    assert retrain("t-again", attempt=1) == 0
    assert [v.version for v in mq.model_versions(None, TARGET)] == [1]
    assert _runs("t-again") == [("retrain", "ok", 0)]
    outcome = mq.last_retrain(None)
    assert outcome["outcome"] == "skipped" and "data unchanged since v1" in outcome["note"]

    _new_data_version()  # new data version, same rows: the candidate would be the same model
    assert retrain("t-same-rows", attempt=1) == 0
    assert [v.version for v in mq.model_versions(None, TARGET)] == [1]
    assert "training rows are those v1 learnt from" in mq.last_retrain(None)["note"]


def test_worse_candidate_is_rejected_and_previous_stays_active(registry, monkeypatch):
    retrain("t-good", attempt=1)
    good = mq.active_model(None, TARGET)
    real_train = roi_model.train

    def train_on_shuffled_revenue(frame, target, config):
        shuffled = np.random.default_rng(0).permutation(frame["revenue"].to_numpy())
        return real_train(frame.assign(revenue=shuffled), target, config)

    monkeypatch.setattr(roi_model, "train", train_on_shuffled_revenue)
    _new_data_version()
    assert retrain("t-worse", attempt=1) > 0
    worse = mq.model_versions(None, TARGET)[0]
    assert (worse.version, worse.status, worse.promoted_at) == (2, "rejected", None)
    assert worse.metrics["validation_score"] < good.metrics["validation_score"] - 0.1
    assert worse.note.startswith("rejected:")
    assert mq.active_model(None, TARGET).id == good.id
    assert mq.last_retrain(None)["outcome"] == "rejected"


def test_candidate_as_good_as_the_active_model_replaces_it(registry, monkeypatch):
    retrain("t-v1", attempt=1)
    real_train = roi_model.train

    def without_first_day(frame, target, config):  # different rows, same quality
        return real_train(frame[frame["date"] > frame["date"].min()], target, config)

    monkeypatch.setattr(roi_model, "train", without_first_day)
    _new_data_version()
    retrain("t-v2", attempt=1)
    second = mq.active_model(None, TARGET)
    assert (second.version, second.status) == (2, "promoted")
    assert second.note.startswith("promoted:") and "for v1" in second.note
    history = {v.version: v for v in mq.model_versions(None, TARGET)}
    assert history[1].status == "promoted" and history[1].promoted_at < second.promoted_at


def test_active_model_is_not_judged_on_rows_it_learnt_from(demo_db):
    """Refit on every row, a model's errors on its own training rows are flattering; the bar a
    candidate must clear is the active model's out-of-sample score instead."""
    end = _window()[1]
    frame = mq.campaign_day_frame(None, end - dt.timedelta(days=119), end)
    config = roi_model.TrainConfig(n_estimators=80, nthread=1)
    active = roi_model.train(frame, config=config)
    candidate = roi_model.train(frame, config=config)
    holdout = frame.assign(revenue=frame["revenue"].where(
        frame["date"] >= pd.Timestamp(candidate.card["validation_window"]["start"])))
    in_sample = roi_model.evaluate(active, holdout)["mae_gain"]
    assert in_sample > roi_model.validation_score(active) + 0.05  # the trap is real here
    decision = decide(candidate, active, 1, frame, ModelJobConfig())
    assert decision.bar == roi_model.validation_score(active) and decision.promote


def test_stale_active_model_is_judged_on_the_days_it_has_not_seen(demo_db, monkeypatch):
    """Once a week of holdout days is newer than the active model's data, its score on those
    days is its bar, if lower than its validation score: a model gone stale lowers its bar."""
    end = _window()[1]
    frame = mq.campaign_day_frame(None, end - dt.timedelta(days=119), end)
    config = roi_model.TrainConfig(n_estimators=80, nthread=1)
    active = roi_model.train(frame[frame["date"] <= pd.Timestamp(end - dt.timedelta(days=14))], config=config)
    candidate = roi_model.train(frame, config=config)
    judged = {}

    def evaluate(model, rows):
        judged["dates"] = sorted(pd.to_datetime(rows.loc[rows["revenue"].notna(), "date"]).unique())
        return {"mae_gain": -0.5}

    monkeypatch.setattr(roi_model, "evaluate", evaluate)
    decision = decide(candidate, active, 1, frame, ModelJobConfig())
    assert decision.bar == -0.5 and decision.promote and "14 days it had not seen" in decision.note
    assert judged["dates"][0] == pd.Timestamp(end - dt.timedelta(days=13)) and len(judged["dates"]) == 14


def test_score_writes_one_additive_row_per_campaign(registry):
    retrain("t-score-model", attempt=1)
    n = score("t-score", attempt=1)
    active = mq.active_model(None, TARGET)
    stored = mq.scores(None, active.id)
    start, end = _window()
    truth = queries.breakdown(None, Filters(start, end), by="campaign")
    truth = truth[truth["spend"] > 0].set_index("campaign_id")
    assert n == len(stored) == len(truth) > 0
    assert set(stored["campaign_id"]) == set(truth.index)
    assert (stored["date_from"] == start).all() and (stored["date_to"] == end).all()
    assert (stored["lo"] <= stored["prediction"]).all() and (stored["prediction"] <= stored["hi"]).all()
    features = [f["name"] for f in active.card["features"]]
    for row in stored.itertuples():
        assert set(row.shap) == {*features, "base_value"} and set(row.features) == set(features)
        assert sum(row.shap.values()) == pytest.approx(row.prediction, abs=1e-5)
        assert row.actual == pytest.approx(truth.loc[row.campaign_id, "roi"], rel=1e-9)
        assert row.spend == pytest.approx(truth.loc[row.campaign_id, "spend"], rel=1e-9)
    assert _runs("t-score") == [("score", "ok", n)]
    assert mq.score_stamp(None, TARGET)[0] == active.id


def test_rescoring_replaces_the_previous_models_scores(registry, monkeypatch):
    retrain("t-r1", attempt=1)
    score("t-r1", attempt=1)
    first = mq.active_model(None, TARGET)
    real_train = roi_model.train
    monkeypatch.setattr(roi_model, "train", lambda frame, target, config: real_train(
        frame[frame["date"] > frame["date"].min()], target, config))
    _new_data_version()
    retrain("t-r2", attempt=1)
    second = mq.active_model(None, TARGET)
    assert second.id != first.id
    assert mq.score_stamp(None, TARGET)[0] == first.id  # until the score step runs, v1's stay
    n = score("t-r2", attempt=1)
    assert score("t-r2-again", attempt=1) == n  # idempotent
    with get_engine().connect() as c:
        per_model = dict(c.execute(select(m.CampaignScore.model_version_id, func.count())
                                   .group_by(m.CampaignScore.model_version_id)).all())
    assert per_model == {second.id: n}


def test_nothing_to_score_without_a_model(registry):
    assert score("t-no-model", attempt=1) == 0
    assert mq.score_stamp(None, TARGET) is None
    assert _runs("t-no-model") == [("score", "ok", 0)]
