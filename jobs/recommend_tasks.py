"""The recommend step of the hourly cycle: the computed results as a few written recommendations.

It gathers what the earlier steps stored — the budget plan on the fitted curves, modelled vs
reported ROI, the last four weeks' channel comparison, open alerts, the 30-day forecast —
turns each into facts (modeling.recommend), keeps the most valuable, and has them written up
(modeling.llm: the configured transformers model, or the facts' own sentences when the model
is unavailable or its draft cites a number that is not in the facts). The result is stored as
a planning artefact the Overview page shows; it skips when the data has not changed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

import pandas as pd

from db import alert_queries as aq
from db import planning_queries as pq
from db.config import get_settings
from db.filters import Filters
from db.model_queries import last_complete_day
from db.queries import channels, daily_by, data_version
from db.session import get_engine, unit_of_work
from jobs.runs import tracked
from modeling import anomaly, budget, curves_io, llm
from modeling import forecast as forecasting
from modeling import recommend as rc
from modeling.compare import compare_channels

log = logging.getLogger("demetra.jobs")


@dataclass(frozen=True)
class RecommendJobConfig:
    #: Days the channel comparison and the forecast's "last period" cover.
    window_days: int = 28
    horizon_days: int = 30
    #: Open alerts of the last week count; older ones have been seen or gone stale.
    alert_days: int = 7
    #: The plan keeps each channel within ±30 % of today, as the Budget page does by default.
    max_change: float = 0.3
    top: int = 5
    compare_draws: int = 1000


def _writer() -> llm.Writer:
    model = get_settings().llm_model
    if model is None:
        return llm.LLMWriter()
    return llm.TemplateWriter() if model.strip().lower() in ("", "none", "off") else llm.LLMWriter(model.strip())


def _curve_facts(config: RecommendJobConfig, currency: str, labels: dict[str, str]) -> list[rc.Fact]:
    run = pq.latest(get_engine(), pq.CURVES)
    if run is None or run.status != pq.OK:
        return []
    curves = curves_io.from_bytes(pq.payload(get_engine(), run.id)).get("revenue")
    if curves is None:
        return []
    plan = budget.plan(curves, float(curves.current.sum()), max_change=config.max_change)
    return [*rc.budget_facts(plan, currency, labels),
            *rc.efficiency_facts(curves.roi, currency, labels, days=len(curves.baseline))]


def _forecast_frame(run_id: int, recent: pd.DataFrame, days: int) -> pd.DataFrame:
    """Per channel: forecast sums over the next `days` days (modeling.forecast.window_total)
    beside the actual sums of the last `days`."""
    rows = []
    for channel, last in recent.groupby("channel"):
        series = {m: pq.forecast(get_engine(), run_id, channel, m).head(days) for m in ("spend", "revenue")}
        if any(s.empty for s in series.values()):
            continue
        revenue, lo, hi = forecasting.window_total(series["revenue"])
        rows.append({"channel": channel, "spend_next": series["spend"]["mean"].sum(),
                     "revenue_next": revenue, "revenue_next_lo95": lo, "revenue_next_hi95": hi,
                     "spend_last": last["spend"].sum(), "revenue_last": last["revenue"].sum()})
    return pd.DataFrame(rows, columns=["channel", *rc.FORECAST_COLUMNS])


def gather_facts(end: dt.date, config: RecommendJobConfig) -> list[rc.Fact]:
    """Every fact the stored results support, unranked."""
    engine = get_engine()
    currency = get_settings().reporting_currency
    labels = dict(channels(engine).itertuples(index=False, name=None))
    facts = _curve_facts(config, currency, labels)

    window = daily_by(engine, Filters(end - dt.timedelta(days=config.window_days - 1), end), by="channel")
    stake = (window.groupby("channel")["spend"].sum() / config.window_days).to_dict()
    # The comparison ranks platform-reported ROAS: next to curves that correct for
    # over-attribution it would contradict them, so it speaks only when there are none.
    if window["channel"].nunique() > 1 and not any(f.kind == "efficiency" or f.kind == "budget"
                                                   for f in facts):
        comparison = compare_channels(window, "roas", n_boot=config.compare_draws, by="channel")
        facts += rc.comparison_facts(comparison, "roas", currency, labels, stake)

    alerts = aq.alerts(engine, end - dt.timedelta(days=config.alert_days - 1), end, status=aq.OPEN)
    high = alerts[alerts["severity"] == "high"]
    # One fact per incident: an outage moves spend, impressions and conversions at once.
    primaries = anomaly.group_incidents(high)["primary"] if not high.empty else []
    facts += rc.alert_facts(high[high["id"].isin(primaries)], currency, labels, stake)

    run = pq.latest(engine, pq.FORECAST)
    if run is not None and run.status == pq.OK:
        last = daily_by(engine, Filters(end - dt.timedelta(days=config.horizon_days - 1), end), by="channel")
        facts += rc.forecast_facts(_forecast_frame(run.id, last, config.horizon_days), currency, labels,
                                   days=config.horizon_days)
    return facts


def _stamp(version: str, end: dt.date | None, config: RecommendJobConfig) -> str:
    """The data version plus the open alerts: dismissing one changes no data, but it must leave
    the recommendations at the next run."""
    if end is None:
        return version
    alerts = aq.alerts(get_engine(), end - dt.timedelta(days=config.alert_days - 1), end, status=aq.OPEN)
    digest = hashlib.sha1(",".join(map(str, sorted(alerts["id"]))).encode()).hexdigest()[:12]
    return f"{version}|{digest}"


def recommend(cycle_id: str, attempt: int | None = None, config: RecommendJobConfig | None = None,
              writer: llm.Writer | None = None) -> int:
    """Write and store the recommendations; returns how many facts they rest on."""
    config = config or RecommendJobConfig()
    with tracked("recommend", cycle_id, attempt=attempt) as run:
        engine = get_engine()
        end = last_complete_day(engine, dt.datetime.now(dt.timezone.utc).date())
        version = _stamp(data_version(engine), end, config)
        latest = pq.latest(engine, pq.RECOMMENDATIONS)
        if latest is not None and latest.data_version == version:
            log.info("cycle %s: recommend skipped, data and open alerts unchanged", cycle_id)
            return 0
        facts = rc.rank(gather_facts(end, config), top=config.top) if end else []
        written = (writer or _writer()).write(facts) if facts else None
        if written is not None and written.rejected:
            log.info("cycle %s: recommend used the facts' own sentences: %s", cycle_id, written.rejected)
        summary = {"facts": [dataclasses.asdict(f) for f in facts],
                   "text": written.text if written else "",
                   "source": written.source if written else None,
                   "model": written.model if written else None,
                   "rejected": written.rejected if written else None}
        with unit_of_work() as conn:
            pq.save_artefact(conn, kind=pq.RECOMMENDATIONS, status=pq.OK, data_version=version,
                             summary=summary, date_to=end)
        run.rows = len(facts)
    return run.rows
