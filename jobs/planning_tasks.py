"""The planning steps of the hourly cycle: fit response curves, forecast every channel.

Both read up to the last `history_days` complete days per channel (today's rows are a partial
day) in the reporting currency, skip when the data version is unchanged since their last run,
and store what the Budget and Forecast pages show, so no page fits a model in a callback.
With too little history they store an "insufficient" run that says how much there is and how
much is needed, instead of failing the cycle: a new account starts with a few days of data.

Curves are fitted twice, on revenue and on conversions, because a plan can only optimise the
outcome its curves were fitted on (objective revenue; conversions or a target CPA).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd

from db import planning_queries as pq
from db.filters import Filters
from db.model_queries import last_complete_day
from db.queries import daily_by, data_version
from db.session import get_engine, unit_of_work
from jobs.runs import tracked
from modeling import budget, curves_io
from modeling import forecast as forecasting

log = logging.getLogger("demetra.jobs")

TARGETS = ("revenue", "conversions")
FORECAST_MEASURES = ("spend", "conversions", "revenue")


@dataclass(frozen=True)
class PlanningJobConfig:
    #: Days of history read, ending at the last complete day (a year gives curves a season).
    history_days: int = 365
    #: Curves need spend to have moved: 12 weeks is about the least a daily mix model with a
    #: weekly pattern and a trend can separate from its baseline.
    min_curve_days: int = 84
    #: Bootstrap refits behind each interval: both targets together take about 3-4 s on the demo's
    #: 7 channels × 120 or 365 days (2 shared cores).
    n_boot: int = 40
    seed: int = 0
    horizon: int = 90
    #: Eight weeks give the weekly pattern enough cycles to estimate.
    min_forecast_days: int = 56
    #: Backtest windows are about a month (the middle of the 7/30/90 horizons), each forecast
    #: from at least `min_forecast_days` of data before it; up to `max_folds` of them.
    backtest_horizon: int = 28
    max_folds: int = 4


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _unchanged(kind: str, version: str, cycle_id: str) -> bool:
    latest = pq.latest(get_engine(), kind)
    if latest is not None and latest.data_version == version:
        log.info("cycle %s: %s skipped, data unchanged since run %d", cycle_id, kind, latest.id)
        return True
    return False


def _history(config: PlanningJobConfig) -> tuple[pd.DataFrame, int]:
    """Daily × channel base measures of the window and the number of days it spans."""
    engine = get_engine()
    end = last_complete_day(engine, _today())
    if end is None:
        return pd.DataFrame(columns=["date", "channel", *FORECAST_MEASURES]), 0
    start = end - dt.timedelta(days=config.history_days - 1)
    daily = daily_by(engine, Filters(start, end), by="channel")
    daily = daily[daily.groupby("channel")["spend"].transform("sum") > 0]
    if daily.empty:
        return daily, 0
    return daily, (daily["date"].max() - daily["date"].min()).days + 1


def _store_insufficient(kind: str, version: str, cycle_id: str, days: int, needed: int,
                        message: str | None = None) -> None:
    message = message or (f"{days} days of data with spend; {needed} are needed" if days
                          else "no data with spend yet")
    log.info("cycle %s: %s not run: %s", cycle_id, kind, message)
    with unit_of_work() as conn:
        pq.save_artefact(conn, kind=kind, status=pq.INSUFFICIENT, data_version=version,
                         summary={"days": days, "needed": needed, "message": message})


def fit_curves(cycle_id: str, attempt: int | None = None,
               config: PlanningJobConfig | None = None) -> int:
    """Fit and store response curves per target; returns the channel-days fitted on (0 when
    skipped or when the history is too short)."""
    config = config or PlanningJobConfig()
    with tracked("fit_curves", cycle_id, attempt=attempt) as run:
        version = data_version(get_engine())  # read first: data landing meanwhile means refit
        if _unchanged(pq.CURVES, version, cycle_id):
            return 0
        daily, days = _history(config)
        if days < config.min_curve_days:
            _store_insufficient(pq.CURVES, version, cycle_id, days, config.min_curve_days)
            return 0
        start, end = daily["date"].min(), daily["date"].max()
        outcome = pq.outcome_daily(get_engine(), start.date(), end.date())
        # The outcome anchors the curves' sizes; with days missing it cannot, and the curves
        # then describe the platforms' own claims (the page says which).
        complete = len(outcome) == days
        # Lift tests calibrate sizes against the outcome, so they need it too.
        fits = {target: budget.fit(daily, outcome if complete else None, target=target,
                                   seed=config.seed, n_boot=config.n_boot,
                                   lift_tests=pq.lift_tests(get_engine(), target)
                                   if complete else None)
                for target in TARGETS if daily[target].sum() > 0}
        if not fits:
            _store_insufficient(pq.CURVES, version, cycle_id, days, config.min_curve_days,
                                "the platforms report no revenue or conversions to fit curves to")
            return 0
        summary = {"days": days, "channels": sorted(daily["channel"].unique()),
                   "outcome_complete": complete, "n_boot": config.n_boot, "seed": config.seed,
                   "fits": {t: {"target_source": c.target_source, "r2": c.r2,
                                "lift_tests": len(c.lift),
                                "roi": c.roi.reset_index().to_dict("records")}
                            for t, c in fits.items()}}
        with unit_of_work() as conn:
            pq.save_artefact(conn, kind=pq.CURVES, status=pq.OK, data_version=version,
                             summary=summary, date_from=start.date(), date_to=end.date(),
                             payload=curves_io.to_bytes(fits))
        run.rows = len(daily)
    return run.rows


def _forecast_input(daily: pd.DataFrame) -> pd.DataFrame:
    """Per channel plus the all-channel total, on a full daily grid up to the window's end.

    A channel that stopped spending has no rows for its last days; without the zeros its
    series would end early and its forecast would start on the wrong date.
    """
    end = daily["date"].max()
    total = daily.groupby("date", as_index=False)[list(FORECAST_MEASURES)].sum()
    frame = pd.concat([daily[["date", "channel", *FORECAST_MEASURES]],
                       total.assign(channel=pq.ALL_CHANNELS)], ignore_index=True)
    parts = []
    for channel, part in frame.groupby("channel", sort=True):
        days = pd.date_range(part["date"].min(), end, freq="D", name="date")
        parts.append(part.set_index("date")[list(FORECAST_MEASURES)].reindex(days, fill_value=0.0)
                     .reset_index().assign(channel=channel))
    return pd.concat(parts, ignore_index=True)


def _backtest(frame: pd.DataFrame, days: int, config: PlanningJobConfig) -> dict:
    folds = min(config.max_folds, (days - config.min_forecast_days) // config.backtest_horizon)
    card: dict = {"horizon": config.backtest_horizon, "folds": max(folds, 0),
                  "needed_days": config.min_forecast_days + config.backtest_horizon, "series": []}
    if folds < 1:
        return card
    long = frame.melt(id_vars=["date", "channel"], value_vars=list(FORECAST_MEASURES),
                      var_name="metric")
    long["series_id"] = long["channel"] + "|" + long["metric"]
    scores = forecasting.backtest_many(long[["date", "series_id", "value"]],
                                       config.backtest_horizon, folds)
    scores[["channel", "metric"]] = scores.pop("series_id").str.split("|", n=1, expand=True)
    card["series"] = scores.astype(object).where(scores.notna(), None).to_dict("records")
    return card


def forecast(cycle_id: str, attempt: int | None = None,
             config: PlanningJobConfig | None = None) -> int:
    """Forecast spend, conversions, revenue and ROAS per channel (and in total) for
    `horizon` days with 80 % / 95 % intervals, and backtest the model against seasonal-naive;
    returns the forecast rows stored (0 when skipped or the history is too short)."""
    config = config or PlanningJobConfig()
    with tracked("forecast", cycle_id, attempt=attempt) as run:
        version = data_version(get_engine())
        if _unchanged(pq.FORECAST, version, cycle_id):
            return 0
        daily, days = _history(config)
        if days < config.min_forecast_days:
            _store_insufficient(pq.FORECAST, version, cycle_id, days, config.min_forecast_days)
            return 0
        frame = _forecast_input(daily)
        predicted = forecasting.forecast_channels(frame, config.horizon)
        summary = {"days": days, "horizon": config.horizon,
                   "backtest": _backtest(frame, days, config)}
        with unit_of_work() as conn:
            artefact_id = pq.save_artefact(
                conn, kind=pq.FORECAST, status=pq.OK, data_version=version, summary=summary,
                date_from=daily["date"].min().date(), date_to=daily["date"].max().date())
            run.rows = pq.write_forecast(conn, artefact_id, predicted)
    return run.rows
