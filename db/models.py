"""The unified star schema.

Grain of the main fact: date × ad (ad → ad set → campaign → account → platform), the same
grain fivetran's ad_reporting uses. Money is kept twice: in the account's currency (as the
platform reported it) and in the reporting currency (converted with that day's FX rate), so a
restated FX table can be re-applied and the dashboard never converts on the fly per row.
The fact rows carry denormalised platform/account/campaign ids so filters never need joins.
Fact ids are plain integers, not foreign keys: db.ingest resolves them from the dimensions it
has just upserted in the same transaction, and a per-row FK check costs more than the insert
itself on a bulk load (292k rows: 7.8 s with one FK, 4.0 s without, PostgreSQL 15).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 4)
Count = BigInteger


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Platform(Base):
    __tablename__ = "platform"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))


class AdAccount(Base):
    __tablename__ = "ad_account"
    __table_args__ = (UniqueConstraint("platform_id", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    external_id: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Campaign(Base):
    __tablename__ = "campaign"
    __table_args__ = (UniqueConstraint("account_id", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ad_account.id"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    external_id: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(300), default="")
    objective: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class AdSet(Base):
    """Meta ad set, Google/TikTok/Yandex ad group: one level, as in fivetran's ad_reporting."""

    __tablename__ = "ad_set"
    __table_args__ = (UniqueConstraint("campaign_id", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    external_id: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(300), default="")
    audience: Mapped[str | None] = mapped_column(String(120), nullable=True)
    segment: Mapped[str | None] = mapped_column(String(80), nullable=True)
    geo: Mapped[str | None] = mapped_column(String(80), nullable=True)
    language: Mapped[str | None] = mapped_column(String(40), nullable=True)
    age_band: Mapped[str | None] = mapped_column(String(20), nullable=True)
    gender: Mapped[str | None] = mapped_column(String(20), nullable=True)


class Ad(Base):
    __tablename__ = "ad"
    __table_args__ = (UniqueConstraint("ad_set_id", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ad_set_id: Mapped[int] = mapped_column(ForeignKey("ad_set.id"))
    external_id: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(300), default="")
    creative_type: Mapped[str | None] = mapped_column(String(40), nullable=True)


class _Measures:
    """Additive measures shared by every fact table (reach is the one non-additive column)."""

    spend: Mapped[float] = mapped_column(Money, default=0)
    spend_rc: Mapped[float] = mapped_column(Money, default=0)
    impressions: Mapped[int] = mapped_column(Count, default=0)
    clicks: Mapped[int] = mapped_column(Count, default=0)
    leads: Mapped[int] = mapped_column(Count, default=0)
    conversions: Mapped[float] = mapped_column(Float, default=0)
    revenue: Mapped[float] = mapped_column(Money, default=0)
    revenue_rc: Mapped[float] = mapped_column(Money, default=0)
    engagements: Mapped[int] = mapped_column(Count, default=0)


class FactAdDaily(_Measures, Base):
    __tablename__ = "fact_ad_daily"
    __table_args__ = (
        Index("ix_fact_ad_daily_campaign_date", "campaign_id", "date"),
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    ad_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int] = mapped_column(Integer)
    reach: Mapped[int | None] = mapped_column(Count, nullable=True)
    video_views: Mapped[int] = mapped_column(Count, default=0)


class _RolledMeasures:
    """A rollup's measures: doubles, summed faster than numeric (derived data, see AggChannelDaily)."""

    spend: Mapped[float] = mapped_column(Float, default=0)
    spend_rc: Mapped[float] = mapped_column(Float, default=0)
    impressions: Mapped[float] = mapped_column(Float, default=0)
    clicks: Mapped[float] = mapped_column(Float, default=0)
    leads: Mapped[float] = mapped_column(Float, default=0)
    conversions: Mapped[float] = mapped_column(Float, default=0)
    revenue: Mapped[float] = mapped_column(Float, default=0)
    revenue_rc: Mapped[float] = mapped_column(Float, default=0)
    engagements: Mapped[float] = mapped_column(Float, default=0)


class AggChannelDaily(_RolledMeasures, Base):
    """Rollup of fact_ad_daily by date × account, rebuilt for the touched window on every load.

    The overview reads ~10^4 rollup rows instead of 10^6-10^7 ad-day rows, which is what keeps
    its callbacks under 100 ms. Derived data, so measures are doubles: PostgreSQL sums float8
    about 1.5× faster than numeric (and sums of bigint are numeric).
    """

    __tablename__ = "agg_channel_daily"
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(Integer)
    reach: Mapped[float | None] = mapped_column(Float, nullable=True)
    video_views: Mapped[float] = mapped_column(Float, default=0)


class FactHourly(_Measures, Base):
    __tablename__ = "fact_campaign_hourly"
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(Integer)


class AggHourly(_RolledMeasures, Base):
    """Rollup of fact_campaign_hourly by date × hour × account, rebuilt for the touched window
    whenever the hourly facts or their window change. The best-time grid reads it: a year at a
    million ad-days is ~10^5 rows here against ~4·10^6 campaign-hours (1.4 s → see README)."""

    __tablename__ = "agg_hourly"
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(Integer)


class AggAudience(_RolledMeasures, Base):
    """Rollup of fact_audience_daily over campaigns (date × account × age × gender × geo ×
    segment), rebuilt with the facts' window: the Audience page never needs the campaign."""

    __tablename__ = "agg_audience"
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    age_band: Mapped[str] = mapped_column(String(20), primary_key=True)
    gender: Mapped[str] = mapped_column(String(20), primary_key=True)
    geo: Mapped[str] = mapped_column(String(80), primary_key=True)
    segment: Mapped[str] = mapped_column(String(80), primary_key=True)
    platform_id: Mapped[int] = mapped_column(Integer)


class FactAudienceDaily(_Measures, Base):
    __tablename__ = "fact_audience_daily"
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    age_band: Mapped[str] = mapped_column(String(20), primary_key=True)
    gender: Mapped[str] = mapped_column(String(20), primary_key=True)
    geo: Mapped[str] = mapped_column(String(80), primary_key=True)
    segment: Mapped[str] = mapped_column(String(80), primary_key=True)
    platform_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(Integer)


class OrganicPost(Base):
    __tablename__ = "organic_post"
    __table_args__ = (UniqueConstraint("platform_id", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    external_id: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    views: Mapped[int] = mapped_column(Count, default=0)
    reach: Mapped[int | None] = mapped_column(Count, nullable=True)
    reactions: Mapped[int] = mapped_column(Count, default=0)
    shares: Mapped[int] = mapped_column(Count, default=0)
    comments: Mapped[int] = mapped_column(Count, default=0)


class FxRate(Base):
    """Value of one unit of `currency` in the reporting currency on `date`."""

    __tablename__ = "fx_rate"
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[float] = mapped_column(Float)


class OutcomeDaily(Base):
    """The business's own total (CRM / web analytics): what marketing-mix models fit against."""

    __tablename__ = "outcome_daily"
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    conversions: Mapped[float] = mapped_column(Float, default=0)
    revenue_rc: Mapped[float] = mapped_column(Money, default=0)


class LiftTest(Base):
    """An incrementality experiment's result (e.g. a geo holdout): what the channel's spend
    brought during the test window, with its standard error. The response-curve fit uses
    these to calibrate how much each channel really causes. One row per channel, window and
    metric; importing the same test again replaces it."""

    __tablename__ = "lift_test"
    __table_args__ = (UniqueConstraint("platform", "date_from", "date_to", "metric"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(40))
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(20))  # revenue | conversions
    #: Incremental outcome in the window: reporting currency for revenue, count for conversions.
    lift: Mapped[float] = mapped_column(Float)
    standard_error: Mapped[float] = mapped_column(Float)
    spend_rc: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(80), default="import")
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Alert(Base):
    """A campaign-day whose numbers broke from their normal range (modeling.anomaly), with
    what was expected and a sentence saying what it may mean. Re-detection on restated days
    replaces the row but keeps a dismissal: a marketer who dismissed it does not see it again."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("date", "campaign_id", "metric"),
                      Index("ix_alert_date", "date"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date)
    platform: Mapped[str] = mapped_column(String(40))
    campaign_id: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))  # spike | drop
    #: 1, or 2 when observed / expected / lo / hi are totals of the day and the day before.
    days: Mapped[int] = mapped_column(Integer, default=1)
    observed: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    lo: Mapped[float] = mapped_column(Float)
    hi: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(10))  # high | medium
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | dismissed
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyncRun(Base):
    """One executed step of the hourly cycle (or a manual load): the audit trail behind /healthz."""

    __tablename__ = "sync_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[str] = mapped_column(String(40), index=True)
    step: Mapped[str] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # running | ok | failed
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AppState(Base):
    """Small key → JSON text store: data version (cache invalidation), simulator truth, cursors."""

    __tablename__ = "app_state"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Source(Base):
    """One configured data source (an ad account on a platform, an upload target, the demo).

    Credentials are Fernet-encrypted JSON (db.secrets), never plaintext; `settings` is JSON text
    (lookback_days, timezone, currency, base_url override, action_map...). The lock columns are a
    lease: a worker owns the source while `locked_until` is in the future, so a crashed worker's
    lock expires on its own instead of blocking the source forever.
    """

    __tablename__ = "source"
    __table_args__ = (UniqueConstraint("name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    account_ref: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | needs_reauth | error | paused
    credentials: Mapped[str | None] = mapped_column(Text, nullable=True)
    settings: Mapped[str] = mapped_column(Text, default="{}")
    cursor_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    rows_last_sync: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ModelVersion(Base):
    """One trained model in the registry: its card, metrics, artefact and promotion decision.

    Promoted versions keep status "promoted" after a newer one replaces them; the active model is
    the latest promoted_at, so the promotion history stays readable and a rollback is a single
    update. `data_version` is the app_state data version read before training: while it is
    unchanged the hourly retrain has nothing new to learn from. Old artefacts are pruned to NULL
    (metadata kept) so the table does not grow by a model per hour.
    """

    __tablename__ = "model_version"
    __table_args__ = (
        UniqueConstraint("target", "version"),
        Index("ix_model_version_target_status", "target", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    data_version: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[str] = mapped_column(Text, default="{}")
    card: Mapped[str] = mapped_column(Text, default="{}")
    artefact: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="candidate")  # candidate | promoted | rejected
    promoted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class CampaignScore(Base):
    """A model's prediction for one campaign over the scoring window, with its SHAP explanation.

    Pages read these rows instead of running the model: `shap` is JSON {feature: contribution,
    "base_value": …} summing to `prediction`, `features` the values the contributions refer to,
    and `actual` the ROI db.metrics computes for the same campaign and window.
    """

    __tablename__ = "campaign_score"
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    prediction: Mapped[float] = mapped_column(Float)
    lo: Mapped[float] = mapped_column(Float)
    hi: Mapped[float] = mapped_column(Float)
    actual: Mapped[float | None] = mapped_column(Float, nullable=True)
    spend: Mapped[float] = mapped_column(Float, default=0)
    shap: Mapped[str] = mapped_column(Text)
    features: Mapped[str] = mapped_column(Text)
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlanningArtefact(Base):
    """One stored result of the hourly planning steps: fitted response curves or a forecast run.

    The Budget and Forecast pages read these rather than fitting in a callback (a fit takes
    seconds; a page must answer in milliseconds). `status` is "ok", or "insufficient" when the
    history was too short, so a page can tell "not run yet" (no row) from "cannot run yet".
    `data_version` is the app_state data version read before fitting: while it is unchanged the
    next cycle skips the fit. `payload` holds the curves (modeling.curves_io bytes, no pickle);
    a forecast's numbers are rows of planning_forecast. `summary` is JSON: the ROI table, the
    backtest card, or the reason for "insufficient". Old runs are deleted as new ones land.
    """

    __tablename__ = "planning_artefact"
    __table_args__ = (Index("ix_planning_artefact_kind_id", "kind", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # curves | forecast
    status: Mapped[str] = mapped_column(String(20))  # ok | insufficient
    data_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    date_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    date_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="{}")


class PlanningForecast(Base):
    """One forecast day of one channel's metric (spend, conversions, revenue, roas) with its
    80 % / 95 % intervals; channel "all" is the forecast of the channels' total."""

    __tablename__ = "planning_forecast"
    artefact_id: Mapped[int] = mapped_column(ForeignKey("planning_artefact.id", ondelete="CASCADE"),
                                             primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    metric: Mapped[str] = mapped_column(String(20), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    lo80: Mapped[float | None] = mapped_column(Float, nullable=True)
    hi80: Mapped[float | None] = mapped_column(Float, nullable=True)
    lo95: Mapped[float | None] = mapped_column(Float, nullable=True)
    hi95: Mapped[float | None] = mapped_column(Float, nullable=True)
