"""The anomaly detector measured against the demo simulator's labelled incidents.

Per seed (a year of campaign-days, money converted to USD with ``result.fx``) it prints: the
incidents the simulator injected, how many were detected (recall), the alerts raised, how
many of them belong to an incident (precision), false alerts per 100 campaign-weeks and the
runtime of ``detect``. The same is printed for ``detect`` without the two-day confirmation
(``confirm_days = 0``: alerts the same day), without the channel adjustment, without the
two-day totals of conversions, and for a naive detector (|z| > 3 against the plain mean and
standard deviation of the previous 28 days), to show what each part buys.

Matching rule. An incident distorts a known set of base measures by a known factor
(``modeling.simulator.anomalies.KINDS``). Applying that factor to a row of ones and computing
each watched metric with ``db.metrics`` gives the metrics the incident visibly moves (by at
least ×1.3) and in which direction: broken_pixel → conversions drop; spend_spike → spend
(and impressions) spike; cpc_spike → cpc and spend spike; delivery_drop → impressions, spend
and conversions drop. An alert *matches* an incident when it is for the same campaign, on one of the
incident's days, for one of those metrics in that direction. An incident is *detected* when
at least one alert matches it ("labelled metric" recall, counting only alerts on the
incident's own labelled metric, is printed beside). Every alert matching no incident is
false. Campaign-weeks = campaign-days in the data / 7.

    PYTHONPATH=. .venv/bin/python bench/bench_anomaly.py [--seeds 42 7] [--end-date 2026-11-25]
"""

from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # run as a script from anywhere
import argparse
import dataclasses
import datetime as dt
import time

import numpy as np
import pandas as pd

from db import metrics as registry
from modeling.anomaly import AnomalyConfig, detect
from modeling.simulator import SimConfig, SimResult, simulate
from modeling.simulator.anomalies import KINDS

SEEDS = (42, 7, 11, 1, 2, 3, 4, 5)
END_DATE = dt.date(2026, 11, 25)
MEASURES = ["spend", "impressions", "clicks", "conversions", "revenue"]
VISIBLE = 1.3  # an incident "shows" in a metric it moves by at least this factor


def campaign_daily(result: SimResult) -> pd.DataFrame:
    """[date, campaign_id, channel, spend, impressions, clicks, conversions, revenue] in USD.

    Platform-reported numbers per campaign and day (incidents included); money converted with
    each day's rate of the ad account's currency. Days a campaign did not run have no row.
    """
    ads = result.ads[["ad_key", "campaign_key", "account_key", "platform"]].merge(
        result.accounts[["account_key", "currency"]], on="account_key")
    daily = result.daily.merge(ads, on="ad_key").merge(result.fx, on=["date", "currency"])
    for column in ("spend", "revenue"):
        daily[column] = daily[column] * daily["rate"]
    out = daily.rename(columns={"platform": "channel", "campaign_key": "campaign_id"}).groupby(
        ["date", "campaign_id", "channel"], as_index=False)[MEASURES].sum()
    return out.sort_values(["date", "campaign_id"], ignore_index=True)


def visible_effects(metrics: tuple[str, ...]) -> dict[str, set[tuple[str, str]]]:
    """Incident cause → {(metric, direction)} it moves by ≥ ×VISIBLE (see the module docstring)."""
    out = {}
    for kind in KINDS:
        after = {m: 1.0 for m in registry.BASE_MEASURES}
        for m in kind.scaled + (("revenue",) if "conversions" in kind.scaled else ()):
            after[m] = kind.factor
        before = {m: 1.0 for m in registry.BASE_MEASURES}
        shows = set()
        for m in metrics:
            ratio = registry.get(m).compute(after) / registry.get(m).compute(before)
            if ratio >= VISIBLE:
                shows.add((m, "spike"))
            elif ratio <= 1 / VISIBLE:
                shows.add((m, "drop"))
        out[kind.name] = shows
    return out


def match(alerts: pd.DataFrame, incidents: pd.DataFrame, effects: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(alerts with the number of the incident each belongs to, −1 for none; incidents with
    `detected` and `labelled` — an alert on the labelled metric itself — flags)."""
    alerts = alerts.assign(date=pd.to_datetime(alerts["date"]), incident=-1)
    incidents = incidents.assign(detected=False, labelled=False)
    for i, inc in incidents.iterrows():
        on = (alerts["campaign_id"] == inc["campaign_key"]) & alerts["date"].between(
            pd.Timestamp(inc["start_date"]), pd.Timestamp(inc["end_date"]))
        shows = effects[inc["cause"]]
        hit = on & np.array([(m, d) in shows for m, d in zip(alerts["metric"], alerts["direction"])], dtype=bool)
        alerts.loc[hit, "incident"] = i
        incidents.loc[i, "detected"] = bool(hit.any())
        incidents.loc[i, "labelled"] = bool((hit & (alerts["metric"] == inc["metric"])).any())
    return alerts, incidents


def score(alerts: pd.DataFrame, incidents: pd.DataFrame, effects: dict, campaign_days: int) -> dict:
    """Recall, precision and false-alert rate of `alerts` against the labelled `incidents`."""
    alerts, incidents = match(alerts, incidents, effects)
    n, detected = len(incidents), int(incidents["detected"].sum())
    matched = int((alerts["incident"] >= 0).sum())
    high = alerts["severity"].eq("high") if "severity" in alerts else pd.Series(False, index=alerts.index)
    return {"incidents": n, "detected": detected, "recall": detected / n if n else np.nan,
            "labelled_recall": incidents["labelled"].sum() / n if n else np.nan,
            "alerts": len(alerts), "matched": matched,
            "precision": matched / len(alerts) if len(alerts) else np.nan,
            "campaign_weeks": campaign_days / 7,
            "false_per_100cw": 100 * (len(alerts) - matched) / (campaign_days / 7), "high": int(high.sum()),
            "false_high": int((high & (alerts["incident"] < 0)).sum())}


def naive(daily: pd.DataFrame, config: AnomalyConfig = AnomalyConfig(), z: float = 3.0) -> pd.DataFrame:
    """|z| > 3 against the mean and sd of the previous 28 days (≥ 14 of them), same metrics and
    directions as `detect`, alert the same day: no robust statistics, channel or count model."""
    frame = daily.sort_values("date").copy()
    frame["cpc"] = registry.get("cpc").compute(frame).to_numpy()
    rows = []
    for metric, direction in config.watch:
        wide = frame.pivot(index="date", columns="campaign_id", values=metric)
        wide = wide.reindex(pd.date_range(wide.index.min(), wide.index.max(), freq="D", name="date"))
        past = wide.shift(1).rolling(28, min_periods=14)
        mean, sd = past.mean(), past.std()
        score_ = (wide - mean) / sd.where(sd > 0)
        long = score_.stack().rename("score").reset_index()
        long["direction"] = np.where(long["score"] > 0, "spike", "drop")
        hit = long["score"].abs() > z
        if direction != "both":
            hit &= long["direction"] == direction
        rows.append(long[hit].assign(metric=metric))
    return pd.concat(rows, ignore_index=True)


def run_seed(seed: int, end_date: dt.date, variants: dict[str, AnomalyConfig]) -> tuple[list[dict], pd.DataFrame]:
    """(one row of figures per method, the incidents with `detected` by the first variant)."""
    result = simulate(SimConfig(seed=seed, days=365, scale=1.0, end_date=end_date))
    daily = campaign_daily(result)
    incidents = pd.DataFrame(result.truth["anomalies"])
    effects = visible_effects(tuple(m for m, _ in AnomalyConfig().watch))
    rows, causes = [], None
    for name, config in variants.items():
        started = time.perf_counter()
        alerts = detect(daily, config=config)
        seconds = time.perf_counter() - started
        rows.append({"seed": seed, "method": name, **score(alerts, incidents, effects, len(daily)),
                     "seconds": seconds})
        if causes is None:
            causes = match(alerts, incidents, effects)[1].assign(seed=seed)
    started = time.perf_counter()
    alerts = naive(daily)
    seconds = time.perf_counter() - started
    rows.append({"seed": seed, "method": "naive |z|>3, 28-day mean/sd",
                 **score(alerts, incidents, effects, len(daily)), "seconds": seconds})
    return rows, causes


def runtime_100(end_date: dt.date, repeats: int = 3) -> tuple[int, float]:
    """(campaigns, median seconds) of detect() on a year of ~100 campaigns (seed 42, scale 2.5)."""
    daily = campaign_daily(simulate(SimConfig(seed=42, days=365, scale=2.5, end_date=end_date)))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        detect(daily)
        times.append(time.perf_counter() - started)
    return daily["campaign_id"].nunique(), float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=END_DATE)
    args = parser.parse_args()
    default = AnomalyConfig()
    variants = {"detect (default, 2-day latency)": default,
                "detect, same day (confirm_days=0)": dataclasses.replace(default, confirm_days=0),
                "detect without the channel adjustment": dataclasses.replace(default, min_peers=10**9),
                "detect without two-day totals": dataclasses.replace(default, two_day=())}
    runs = [run_seed(seed, args.end_date, variants) for seed in args.seeds]
    rows = pd.DataFrame([row for seed_rows, _ in runs for row in seed_rows])
    causes = pd.concat([c for _, c in runs], ignore_index=True)
    columns = ["seed", "incidents", "detected", "recall", "labelled_recall", "alerts", "matched", "precision",
               "false_per_100cw", "high", "false_high", "seconds"]
    print("seconds: detect() per seed (the 'all' row: median); high / false_high: alerts of severity 'high'")
    for method, table in rows.groupby("method", sort=False):
        print(f"\n{method}")
        total = table[["incidents", "detected", "alerts", "matched", "high", "false_high", "campaign_weeks"]].sum()
        counts = ["incidents", "detected", "alerts", "matched", "high", "false_high"]
        summary = {"seed": "all", **{c: int(total[c]) for c in counts},
                   "recall": total["detected"] / total["incidents"],
                   "labelled_recall": (table["labelled_recall"] * table["incidents"]).sum() / total["incidents"],
                   "precision": total["matched"] / total["alerts"] if total["alerts"] else np.nan,
                   "false_per_100cw": 100 * (total["alerts"] - total["matched"]) / total["campaign_weeks"],
                   "seconds": table["seconds"].median()}
        table = pd.concat([table[columns], pd.DataFrame([summary])[columns]], ignore_index=True)
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print("\nincidents by cause, detected / all (default):")
    print(causes.groupby("cause")["detected"].agg(["sum", "count"]).to_string())
    campaigns, seconds = runtime_100(args.end_date)
    print(f"\ndetect() on 365 days × {campaigns} campaigns (seed 42, scale 2.5): {seconds:.3f} s (median of 3)")


if __name__ == "__main__":
    main()
