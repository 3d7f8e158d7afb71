"""The SQL behind the ROI model: its training frame, the model registry and stored scores.

Jobs train and score from `campaign_day_frame`; the Explain page reads `score_stamp`,
`model_record` and `scores`, never the fact tables. A model's scores replace the previous model's in the same
transaction (`write_scores`), so there is always exactly one scored model per target and the
page shows a card and scores that belong together.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Float, cast, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from db import models as m
from db.ingest import get_state, set_state
from db.queries import Bind, connect
from db.upsert import upsert_frame

#: Ad-set attributes a campaign-day row takes from the campaign's most-spent ad set.
AD_SET_ATTRIBUTES = ("audience", "segment", "geo", "language")
#: app_state key of the last retrain's outcome (promoted / rejected / skipped, and why).
RETRAIN_STATE = "model:last_retrain"
_SUMS = ("spend_rc", "revenue_rc", "impressions", "clicks", "conversions", "reach")


def last_complete_day(bind: Bind, today: dt.date) -> dt.date | None:
    """The latest day with data before `today`: today's rows are a partial day, whose spend and
    history features would look like a campaign slowing down."""
    with connect(bind) as conn:
        return conn.execute(select(func.max(m.AggChannelDaily.date))
                            .where(m.AggChannelDaily.date < today)).scalar()


def campaign_day_frame(bind: Bind, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """One row per campaign and day with delivery, in the columns modeling.features reads.

    Money (`spend`, `revenue`) is in the reporting currency. Campaign-day is the grain because
    a campaign is what a marketer asks about: its categorical features are constant, so a
    campaign's drivers read as one story. Ad-set attributes (audience, segment, geo, language)
    are those of the ad set with the most spend in the window. `duration_days` counts from the
    campaign's start date, or its first day with data when the platform gives none.
    """
    f = m.FactAdDaily
    sums = [cast(func.sum(getattr(f, c)), Float).label(c) for c in _SUMS]
    daily = (select(f.date, f.campaign_id, *sums)
             .where(f.date >= date_from, f.date <= date_to)
             .group_by(f.date, f.campaign_id))
    first_day = (select(func.min(f.date)).where(f.campaign_id == m.Campaign.id)
                 .correlate(m.Campaign).scalar_subquery())
    in_window = select(f.campaign_id).where(f.date >= date_from, f.date <= date_to).distinct()
    campaigns = (select(m.Campaign.id.label("campaign_id"), m.Campaign.name.label("campaign"),
                        m.Platform.slug.label("channel"), m.Campaign.objective,
                        func.coalesce(m.Campaign.start_date, first_day).label("start"))
                 .join(m.Platform, m.Platform.id == m.Campaign.platform_id)
                 .where(m.Campaign.id.in_(in_window)))
    ad_sets = (select(m.AdSet.campaign_id, *[getattr(m.AdSet, a) for a in AD_SET_ATTRIBUTES],
                      cast(func.sum(f.spend_rc), Float).label("spend"))
               .join(m.Ad, m.Ad.ad_set_id == m.AdSet.id).join(f, f.ad_id == m.Ad.id)
               .where(f.date >= date_from, f.date <= date_to)
               .group_by(m.AdSet.id))
    with connect(bind) as conn:
        frame = pd.DataFrame(conn.execute(daily).all(), columns=["date", "campaign_id", *_SUMS])
        info = pd.DataFrame(conn.execute(campaigns).all(),
                            columns=["campaign_id", "campaign", "channel", "objective", "start"])
        sets = pd.DataFrame(conn.execute(ad_sets).all(),
                            columns=["campaign_id", *AD_SET_ATTRIBUTES, "spend"])
    frame = frame.rename(columns={"spend_rc": "spend", "revenue_rc": "revenue"})
    frame["date"] = pd.to_datetime(frame["date"])
    frame = frame.merge(info, on="campaign_id", how="left").merge(
        _most_spent(sets), on="campaign_id", how="left")
    frame["duration_days"] = (frame["date"] - pd.to_datetime(frame.pop("start"))).dt.days
    return frame.sort_values(["date", "campaign_id"], ignore_index=True)


def _most_spent(ad_sets: pd.DataFrame) -> pd.DataFrame:
    """Per campaign and attribute, the value carrying the most spend (blank values skipped)."""
    out = pd.DataFrame({"campaign_id": ad_sets["campaign_id"].unique()})
    for attr in AD_SET_ATTRIBUTES:
        known = ad_sets.dropna(subset=[attr])
        spend = known.groupby(["campaign_id", attr], as_index=False)["spend"].sum()
        top = spend.sort_values(["spend", attr], ascending=[False, True], kind="stable")
        out = out.merge(top.drop_duplicates("campaign_id")[["campaign_id", attr]],
                        on="campaign_id", how="left")
    return out


@dataclass(frozen=True)
class ModelRecord:
    """A registry row without its artefact (which is only loaded to predict)."""

    id: int
    target: str
    version: int
    trained_at: dt.datetime
    data_version: str
    rows: int
    status: str
    promoted_at: dt.datetime | None
    note: str | None
    card: dict[str, Any]
    metrics: dict[str, Any]


_RECORD_COLUMNS = (m.ModelVersion.id, m.ModelVersion.target, m.ModelVersion.version,
                   m.ModelVersion.trained_at, m.ModelVersion.data_version, m.ModelVersion.rows,
                   m.ModelVersion.status, m.ModelVersion.promoted_at, m.ModelVersion.note,
                   m.ModelVersion.card, m.ModelVersion.metrics)


def _record(row) -> ModelRecord:
    *head, card, metrics = row
    return ModelRecord(*head, card=json.loads(card), metrics=json.loads(metrics))


def active_model(bind: Bind, target: str) -> ModelRecord | None:
    """The promoted model in use: the most recently promoted version of `target`."""
    q = (select(*_RECORD_COLUMNS)
         .where(m.ModelVersion.target == target, m.ModelVersion.status == "promoted")
         .order_by(m.ModelVersion.promoted_at.desc(), m.ModelVersion.id.desc()).limit(1))
    with connect(bind) as conn:
        row = conn.execute(q).first()
    return _record(row) if row else None


def model_versions(bind: Bind, target: str) -> list[ModelRecord]:
    """Every version of `target`, newest first (the registry's history)."""
    q = (select(*_RECORD_COLUMNS).where(m.ModelVersion.target == target)
         .order_by(m.ModelVersion.version.desc()))
    with connect(bind) as conn:
        return [_record(r) for r in conn.execute(q).all()]


def model_artefact(bind: Bind, model_id: int) -> bytes | None:
    with connect(bind) as conn:
        return conn.execute(select(m.ModelVersion.artefact)
                            .where(m.ModelVersion.id == model_id)).scalar()


def save_model(conn: Connection, *, target: str, data_version: str, rows: int, card: dict,
               metrics: dict, artefact: bytes, status: str, note: str) -> int:
    """Add the next version of `target` (flush only; the caller's unit of work commits).

    Two retrains racing for the same version number collide on the (target, version) unique
    key and the later one fails, to be retried, rather than both claiming it.
    """
    latest = conn.execute(select(func.max(m.ModelVersion.version))
                          .where(m.ModelVersion.target == target)).scalar() or 0
    now = dt.datetime.now(dt.timezone.utc)
    return conn.execute(insert(m.ModelVersion).values(
        target=target, version=latest + 1, trained_at=now, data_version=data_version, rows=rows,
        card=json.dumps(card, default=str), metrics=json.dumps(metrics, default=str),
        artefact=artefact, status=status, promoted_at=now if status == "promoted" else None,
        note=note).returning(m.ModelVersion.id)).scalar_one()


def prune_artefacts(conn: Connection, target: str, keep: int) -> None:
    """Drop the artefacts of all but the `keep` newest versions and the active one; their
    cards and metrics stay, so the registry's history is still complete."""
    newest = (select(m.ModelVersion.id).where(m.ModelVersion.target == target)
              .order_by(m.ModelVersion.id.desc()).limit(keep))
    kept = {r[0] for r in conn.execute(newest)}
    active = active_model(conn, target)
    if active:
        kept.add(active.id)
    conn.execute(update(m.ModelVersion)
                 .where(m.ModelVersion.target == target, m.ModelVersion.id.not_in(kept),
                        m.ModelVersion.artefact.is_not(None))
                 .values(artefact=None))


def record_retrain(conn: Connection, outcome: dict[str, Any]) -> None:
    set_state(conn, RETRAIN_STATE, outcome)


def last_retrain(bind: Bind) -> dict[str, Any] | None:
    """What the last retrain decided: a skip leaves no registry row, so it is only here."""
    with connect(bind) as conn:
        return get_state(conn, RETRAIN_STATE)


SCORE_COLUMNS = ("campaign_id", "date_from", "date_to", "prediction", "lo", "hi", "actual", "spend",
                 "shap", "features")


def write_scores(conn: Connection, model_id: int, scores: pd.DataFrame) -> int:
    """Make `scores` the stored scores of the model's target: upsert them, and remove this
    model's rows for campaigns no longer scored and every other version's rows.

    `shap` and `features` hold one dict per row and are stored as JSON text.
    """
    target = select(m.ModelVersion.target).where(m.ModelVersion.id == model_id).scalar_subquery()
    same_target = select(m.ModelVersion.id).where(m.ModelVersion.target == target,
                                                  m.ModelVersion.id != model_id)
    conn.execute(delete(m.CampaignScore).where(m.CampaignScore.model_version_id.in_(same_target)))
    conn.execute(delete(m.CampaignScore).where(
        m.CampaignScore.model_version_id == model_id,
        m.CampaignScore.campaign_id.not_in([int(c) for c in scores["campaign_id"]])))
    frame = scores[list(SCORE_COLUMNS)].copy()
    for column in ("shap", "features"):
        frame[column] = [json.dumps(v, default=_json_value) for v in frame[column]]
    frame["model_version_id"] = model_id
    frame["scored_at"] = dt.datetime.now(dt.timezone.utc)
    return upsert_frame(conn, m.CampaignScore.__table__, frame,
                        key=["model_version_id", "campaign_id"])


def _json_value(value: object) -> object:
    """numpy scalars as plain numbers; anything else as text."""
    return value.item() if hasattr(value, "item") else str(value)


def model_record(bind: Bind, model_id: int) -> ModelRecord | None:
    with connect(bind) as conn:
        row = conn.execute(select(*_RECORD_COLUMNS).where(m.ModelVersion.id == model_id)).first()
    return _record(row) if row else None


def score_stamp(bind: Bind, target: str) -> tuple[int, str] | None:
    """(scored model id, last scored at) of the stored scores, None before the first scoring.

    The page's cache key: it changes whenever the score step writes, which the data version
    (bumped by syncs only) does not. While a new model's scores are being written the previous
    model's stay readable, so the newest scored model is the one shown.
    """
    q = (select(m.CampaignScore.model_version_id, func.max(m.CampaignScore.scored_at))
         .join(m.ModelVersion, m.ModelVersion.id == m.CampaignScore.model_version_id)
         .where(m.ModelVersion.target == target)
         .group_by(m.CampaignScore.model_version_id)
         .order_by(m.CampaignScore.model_version_id.desc()).limit(1))
    with connect(bind) as conn:
        row = conn.execute(q).first()
    return (int(row[0]), str(row[1])) if row else None


def scores(bind: Bind, model_id: int) -> pd.DataFrame:
    """A model's stored scores with campaign and channel names, `shap` and `features` parsed."""
    s = m.CampaignScore
    q = (select(s.campaign_id, m.Campaign.name, m.Platform.slug, m.Platform.name, s.date_from,
                s.date_to, s.prediction, s.lo, s.hi, s.actual, s.spend, s.shap, s.features,
                s.scored_at)
         .join(m.Campaign, m.Campaign.id == s.campaign_id)
         .join(m.Platform, m.Platform.id == m.Campaign.platform_id)
         .where(s.model_version_id == model_id).order_by(s.campaign_id))
    columns = ["campaign_id", "campaign", "channel", "channel_name", "date_from", "date_to",
               "prediction", "lo", "hi", "actual", "spend", "shap", "features", "scored_at"]
    with connect(bind) as conn:
        frame = pd.DataFrame(conn.execute(q).all(), columns=columns)
    for column in ("shap", "features"):
        frame[column] = [json.loads(v) for v in frame[column]]
    frame["actual"] = frame["actual"].astype("float64")
    return frame
