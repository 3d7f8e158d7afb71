"""The dashboard's cached view of db.queries: every page reads numbers through here."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.cache import cached
from db import alert_queries, audience_queries, model_queries, planning_queries, queries
from db.config import get_settings
from db.filters import Filters
from db.ingest import ingest_lift_tests
from db.session import unit_of_work
from modeling import compare, curves_io, roi_model, timing
from modeling.budget import Curves
from modeling.explain_text import drivers


@cached
def kpi_comparison(f: Filters, comparison: str, slugs: tuple[str, ...]) -> pd.DataFrame:
    return queries.kpi_comparison(None, f, comparison, slugs)


@cached
def timeseries(f: Filters, metric: str, by: str | None, interval: str) -> pd.DataFrame:
    return queries.timeseries(None, f, metric, by=by, interval=interval)


@cached
def breakdown(f: Filters, by: str = "channel") -> pd.DataFrame:
    return queries.breakdown(None, f, by=by)


@cached
def available_channels() -> pd.DataFrame:
    return queries.channels()


@cached
def available_currencies() -> list[str]:
    return queries.currencies()


@cached
def last_day() -> dt.date | None:
    return queries.date_bounds()[1]


def channel_labels() -> dict[str, str]:
    channels = available_channels()
    return dict(zip(channels["slug"], channels["name"]))


# ---- The ROI model's stored results (Explain page) -----------------------------------------
# Keyed on the score stamp as well as the data version: the score step writes after the sync
# has bumped the data version, so the data version alone would keep serving the old scores.

MODEL_TARGET = "roi"


Stamp = tuple[int, str]


def score_stamp() -> Stamp | None:
    """(scored model id, scored at): changes whenever scores are written; None until the first
    model has been scored."""
    return model_queries.score_stamp(None, MODEL_TARGET)


@cached
def scored_model(stamp: Stamp) -> model_queries.ModelRecord | None:
    return model_queries.model_record(None, stamp[0])


@cached
def campaign_scores(stamp: Stamp) -> pd.DataFrame:
    return model_queries.scores(None, stamp[0])


def has_active_model() -> bool:
    return model_queries.active_model(None, MODEL_TARGET) is not None


def last_retrain() -> dict | None:
    """What the last retrain decided (one small read: a skip changes no score stamp)."""
    return model_queries.last_retrain(None)


@cached
def campaign_drivers(stamp: Stamp, campaign_id: int, top: int = 5) -> list[str] | None:
    """The campaign's strongest contributions in words; None when it was not scored or the
    scored model's artefact has been pruned (its stored numbers are still shown)."""
    frame = campaign_scores(stamp)
    row = frame[frame["campaign_id"] == campaign_id]
    blob = model_queries.model_artefact(None, stamp[0]) if not row.empty else None
    if blob is None:
        return None
    shap, values = row.iloc[0]["shap"], row.iloc[0]["features"]
    return drivers(roi_model.from_bytes(blob), pd.Series(values, dtype=object),
                   pd.Series(shap, dtype="float64"), top=top, currency=get_settings().reporting_currency)


# ---- Planning: channel comparison, stored curves and forecasts (Compare, Forecast, Budget) ----
# The stored results are keyed on their run id: a run is written after the sync has bumped the
# data version, so the data version alone would keep serving the previous run.

COMPARE_DRAWS = 1000
COMPARE_COLUMNS = ["key", "label", "channel", "value", "lo", "hi", "prob_better", "verdict",
                   "prob_best", "rank", "rank_lo", "rank_hi"]


@cached
def comparison(f: Filters, metric: str, level: str = "channel", top: int = 10) -> pd.DataFrame:
    """modeling.compare on the window's daily sums, best first, with display labels.

    At campaign level only the `top` campaigns by spend are compared, with each other: a long
    tail of small campaigns would add rows with intervals too wide to say anything.
    """
    by = "channel" if level == "channel" else "campaign"
    key = queries.GROUP_KEYS[by]
    daily = queries.daily_by(None, f, by=by)
    if by == "campaign" and not daily.empty:
        spend = daily.groupby(key)["spend"].sum()
        daily = daily[daily[key].isin(spend[spend > 0].nlargest(top).index)]
    if daily.empty:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    table = compare.compare_channels(daily, metric, n_boot=COMPARE_DRAWS, by=key)
    table = table.rename(columns={key: "key"})
    names = channel_labels()
    if by == "channel":
        table["channel"] = table["key"]
        table["label"] = table["key"].map(names).fillna(table["key"])
    else:
        info = planning_queries.campaign_labels(None, table["key"].tolist()).set_index("campaign_id")
        table["channel"] = table["key"].map(info["channel"])
        table["label"] = [f"{info.at[k, 'campaign'] or f'Campaign {k}'} · {names.get(c, c)}"
                          for k, c in zip(table["key"], table["channel"])]
    return table[COMPARE_COLUMNS]


def planning_run(kind: str) -> planning_queries.Artefact | None:
    """The newest curves or forecast run (one small read), None before the first."""
    return planning_queries.latest(None, kind)


@cached
def fitted_curves(run_id: int) -> dict[str, Curves]:
    """The run's curves per target (revenue, conversions)."""
    return curves_io.from_bytes(planning_queries.payload(None, run_id))


@cached
def stored_forecast(run_id: int, channel: str, metric: str) -> pd.DataFrame:
    return planning_queries.forecast(None, run_id, channel, metric)


@cached
def forecast_channels(run_id: int) -> list[str]:
    return planning_queries.forecast_channels(None, run_id)


@cached
def drill(f: Filters, level: str, top: int = 50) -> pd.DataFrame:
    """Every metric for the window's `top` campaigns or ads by spend, named (drill-down tables)."""
    table = queries.breakdown(None, f, by=level)
    key = queries.GROUP_KEYS[level]
    if table.empty:
        return table.assign(name=pd.Series(dtype=str), parent=pd.Series(dtype=str))
    table = table.nlargest(top, "spend")
    named = queries.names(None, level, table[key].astype(int).tolist()).rename(columns={"id": key})
    return table.merge(named, on=key, how="left")


# ---- Alerts -------------------------------------------------------------------------------
# Not cached: a dismissal changes them without a new data version, and the reads are small.

def alerts(date_from: dt.date, date_to: dt.date, channels: tuple[str, ...] = ()) -> pd.DataFrame:
    return alert_queries.alerts(None, date_from, date_to, channels)


def alert(alert_id: int) -> dict | None:
    """One alert as a mapping, None when the hourly re-check has replaced it."""
    frame = alert_queries.alert(None, alert_id)
    return None if frame.empty else frame.iloc[0].to_dict()


def set_alert_status(alert_id: int, status: str) -> bool:
    with unit_of_work() as conn:
        return alert_queries.set_status(conn, alert_id, status)


@cached
def campaign_days(campaign_id: int, date_from: dt.date, date_to: dt.date, metric: str) -> pd.DataFrame:
    """One campaign's daily metric (days without delivery left out)."""
    return queries.timeseries(None, Filters(date_from, date_to, campaign_ids=(campaign_id,)), metric,
                              by=None)


# ---- Audience: who responds, and when to advertise or publish (Audience page) ---------------
# Only results are cached: a year of hourly cells per channel is too big to be worth storing.

TIMING_DRAWS = 2000


@cached
def audience(f: Filters, by: str) -> pd.DataFrame:
    return audience_queries.audience(None, f, by)


@cached
def channels_with(source: str) -> list[str]:
    """Channels with audience / hourly / post rows at all."""
    return audience_queries.channels_with(None, source)


def _timing_cells(f: Filters, source: str, by_channel: bool = False) -> pd.DataFrame:
    if source == "posts":
        return audience_queries.post_cells(None, f, by_channel=by_channel)
    return audience_queries.hourly_cells(None, f, by_channel=by_channel)


@cached
def best_time(f: Filters, source: str, metric: str) -> tuple[pd.DataFrame, timing.Timing, timing.Timing]:
    """For `f`'s channels together: the weekday × hour grid, and the hour and weekday analyses
    (source: "hourly" ad facts or organic "posts")."""
    cells = _timing_cells(f, source)
    return (timing.grid(cells, metric), timing.analyse(cells, metric, "hour", n_boot=TIMING_DRAWS),
            timing.analyse(cells, metric, "weekday", n_boot=TIMING_DRAWS))


@cached
def best_hours_by_channel(f: Filters, source: str, metric: str) -> pd.DataFrame:
    """Each channel's best window of hours on `metric` (modeling.timing.by_group)."""
    return timing.by_group(_timing_cells(f, source, by_channel=True), metric, n_boot=TIMING_DRAWS)


@cached
def daily_base(f: Filters) -> pd.DataFrame:
    """Base measures per day and channel (the report's Daily sheet)."""
    return queries.daily_by(None, f, by="channel")


def import_lift_tests(tests: pd.DataFrame, source: str) -> int:
    """Store lift-test results whole (db.ingest validates; any problem stores nothing)."""
    with unit_of_work() as conn:
        return ingest_lift_tests(conn, tests, get_settings().reporting_currency, source=source)
