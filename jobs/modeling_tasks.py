"""The model steps of the hourly cycle: retrain (when the data changed) and score every campaign.

retrain trains a candidate on the last `train_days` complete days and promotes it only if it is
not worse than the model in use. Comparing both on the candidate's holdout is not fair as such:
the model in use was refit on rows that include most of that holdout, and measured on the demo
its in-sample MAE gain is ~0.67 against the candidate's honest ~0.50, so every retrain would
lose. The bar is therefore the model in use's own out-of-sample gain, measured on the holdout
rows it has not seen when there are enough of them (so a model that has gone stale lowers its
own bar), and otherwise its validation score from training time.

score writes, in one transaction, each campaign's predicted ROI over the last `score_days`
complete days with its interval, SHAP values and actual ROI; the Explain page reads only these.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd

from db import model_queries as mq
from db.queries import data_version
from db.session import get_engine, unit_of_work
from jobs.runs import tracked
from modeling import roi_model
from modeling.campaign_scores import score_campaigns

log = logging.getLogger("demetra.jobs")


@dataclass(frozen=True)
class ModelJobConfig:
    target: str = "roi"
    #: Days of history a model learns from, ending at the last complete day.
    train_days: int = 180
    #: Window each campaign is scored (and its actual ROI measured) over.
    score_days: int = 28
    #: Days before the scoring window read for the first days' history features.
    history_days: int = 7
    #: Fewer usable rows than this and there is nothing to learn from yet.
    min_train_rows: int = 200
    #: A candidate may trail the bar by this much MAE gain and still count as "not worse":
    #: validation scores on neighbouring windows differ by about this much by chance alone.
    tolerance: float = 0.02
    #: Distinct unseen holdout days needed before the model in use is judged on them.
    min_fresh_days: int = 7
    #: Artefacts kept besides the active one; older versions keep card and metrics only.
    keep_artefacts: int = 10
    #: One thread: the worker shares two cores with the web process.
    nthread: int = 1


@dataclass(frozen=True)
class Decision:
    promote: bool
    note: str
    bar: float | None


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _note(conn, cycle_id: str, outcome: str, note: str, version_id: int | None = None) -> None:
    log.info("cycle %s: retrain %s — %s", cycle_id, outcome, note)
    mq.record_retrain(conn, {"cycle_id": cycle_id, "outcome": outcome, "note": note,
                                    "model_version_id": version_id,
                                    "at": dt.datetime.now(dt.timezone.utc).isoformat()})


def retrain(cycle_id: str, attempt: int | None = None, config: ModelJobConfig | None = None) -> int:
    """Train, compare, register; returns the rows trained on (0 when skipped)."""
    config = config or ModelJobConfig()
    with tracked("retrain", cycle_id, attempt=attempt) as run:
        engine = get_engine()
        version = data_version(engine)  # read first: data landing meanwhile means retrain again
        active = mq.active_model(engine, config.target)
        if active and active.data_version == version:
            with unit_of_work() as conn:
                _note(conn, cycle_id, "skipped", f"data unchanged since v{active.version} was trained")
            return 0
        end = mq.last_complete_day(engine, _today())
        frame = (mq.campaign_day_frame(engine, end - dt.timedelta(days=config.train_days - 1), end)
                 if end else pd.DataFrame())
        usable = int((frame["spend"] > 0).sum()) if not frame.empty else 0
        if usable < config.min_train_rows or frame["date"].nunique() < 2:
            with unit_of_work() as conn:
                _note(conn, cycle_id, "skipped",
                      f"{usable} campaign-days with spend; {config.min_train_rows} needed to train")
            return 0
        candidate = roi_model.train(frame, config.target, roi_model.TrainConfig(nthread=config.nthread))
        incumbent = _load(active, config.nthread)
        if incumbent and candidate.card["data_fingerprint"] == incumbent.card["data_fingerprint"]:
            with unit_of_work() as conn:
                _note(conn, cycle_id, "skipped",
                      f"new data, but the training rows are those v{active.version} learnt from")
            return 0
        decision = decide(candidate, incumbent, active.version if active else None, frame, config)
        metrics = {**candidate.card["metrics"], "bar": decision.bar,
                   "validation_score": roi_model.validation_score(candidate)}
        with unit_of_work() as conn:
            version_id = mq.save_model(
                conn, target=config.target, data_version=version, rows=candidate.card["rows"]["used"],
                card=candidate.card, metrics=metrics, artefact=roi_model.to_bytes(candidate),
                status="promoted" if decision.promote else "rejected", note=decision.note)
            mq.prune_artefacts(conn, config.target, config.keep_artefacts)
            _note(conn, cycle_id, "promoted" if decision.promote else "rejected", decision.note, version_id)
        run.rows = candidate.card["rows"]["used"]
    return run.rows


def _load(record: mq.ModelRecord | None, nthread: int) -> roi_model.RoiModel | None:
    """The stored model, predicting on `nthread` threads (a loaded booster would use every core,
    and idle OpenMP threads spin on a CPU the web process needs)."""
    if record is None:
        return None
    blob = mq.model_artefact(get_engine(), record.id)
    if blob is None:
        raise RuntimeError(f"the active model v{record.version} has no stored artefact")
    model = roi_model.from_bytes(blob)
    model.booster.set_param({"nthread": nthread})
    return model


def decide(candidate: roi_model.RoiModel, incumbent: roi_model.RoiModel | None,
           incumbent_version: int | None, frame: pd.DataFrame, config: ModelJobConfig) -> Decision:
    """Promote the candidate unless its validation score is below the incumbent's bar.

    The bar is the incumbent's MAE gain over the per-channel average on the candidate's holdout
    days it was not trained on (when there are `min_fresh_days` of them), capped by its own
    validation score: both are out-of-sample, and the cap keeps the incumbent's advantage of
    predicting only a few days ahead from raising the bar.
    """
    score = roi_model.validation_score(candidate)
    if incumbent is None:
        return Decision(True, f"first model (validation MAE gain {score:.1%})", None)
    bar, basis = roi_model.validation_score(incumbent), "its validation score"
    dates = pd.to_datetime(frame["date"])
    seen_until = pd.Timestamp(incumbent.card["data_window"]["end"])
    holdout_from = pd.Timestamp(candidate.card["validation_window"]["start"])
    fresh = (dates > seen_until) & (dates >= holdout_from)
    if dates[fresh].nunique() >= config.min_fresh_days:
        # Earlier rows stay in the frame for history features but carry no target.
        masked = frame.assign(revenue=frame["revenue"].where(fresh))
        on_fresh = float(roi_model.evaluate(incumbent, masked)["mae_gain"])
        if on_fresh < bar:
            bar, basis = on_fresh, f"its gain on {dates[fresh].nunique()} days it had not seen"
    promote = score >= bar - config.tolerance
    verb = "promoted" if promote else "rejected"
    return Decision(promote, f"{verb}: validation MAE gain {score:.1%} against {bar:.1%} for "
                             f"v{incumbent_version} ({basis})", bar)


def score(cycle_id: str, attempt: int | None = None, config: ModelJobConfig | None = None) -> int:
    """Score every campaign with spend in the window using the active model; returns campaigns."""
    config = config or ModelJobConfig()
    with tracked("score", cycle_id, attempt=attempt) as run:
        engine = get_engine()
        active = mq.active_model(engine, config.target)
        end = mq.last_complete_day(engine, _today())
        if active is None or end is None:
            log.info("cycle %s: nothing to score (no model or no complete day yet)", cycle_id)
            return 0
        start = end - dt.timedelta(days=config.score_days - 1)
        frame = mq.campaign_day_frame(engine, start - dt.timedelta(days=config.history_days), end)
        scores = score_campaigns(_load(active, config.nthread), frame, start, end)
        scores["date_from"], scores["date_to"] = start, end
        with unit_of_work() as conn:
            run.rows = mq.write_scores(conn, active.id, scores)
    return run.rows
