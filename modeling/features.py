"""Model features from unified-schema rows: one builder shared by training and scoring.

Training calls :func:`fit_features`, which decides which features the data can support and
freezes that decision (names, category levels, history key) in a :class:`FeatureSpec`;
scoring calls :func:`build_features` with the same spec, so a model never sees columns built
differently from the ones it was trained on. Ratios come from :mod:`db.metrics` so CTR, CPC,
ROI … mean exactly what the dashboard means by them.

The leakage guard lives here too: each feature declares the raw columns it is computed from,
and a feature whose sources include an outcome of the target (revenue, conversions, …) is
refused, whatever caller asks for it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from db.metrics import get as metric

Kind = Literal["category", "currency", "percent", "ratio", "days", "weekday", "month"]

#: Columns identifying one series of rows (finest grain first); the first one present keys the
#: history features, so ad-set-day rows look back at their own ad set, not its whole campaign.
ENTITY_KEYS: tuple[str, ...] = ("ad_key", "ad_set_key", "campaign_key", "campaign_id")
#: Targets the model can be trained for, with the words used for them in sentences.
TARGET_LABELS: dict[str, str] = {"roi": "ROI", "roas": "ROAS", "cr": "conversion rate"}
#: Columns train() cannot work without; every other input column is optional.
REQUIRED_COLUMNS: tuple[str, ...] = ("channel", "date", "spend")
#: Levels kept per categorical feature; rarer ones count as missing so free-text audiences
#: cannot blow up the tree splits.
MAX_LEVELS = 100

_OUTCOMES = frozenset({"revenue", "conversions", "leads", "roi", "roas", "cr"})
#: Raw columns no feature may be derived from, per target. Revenue and conversions are
#: measured together with the target (and revenue follows from conversions), so any input
#: built from them would let the model read the answer instead of predicting it.
LEAKAGE_GUARD: dict[str, frozenset[str]] = {"roi": _OUTCOMES, "roas": _OUTCOMES, "cr": _OUTCOMES}

_HISTORY = "history"  # pseudo-source: the feature needs earlier rows of the same series


class LeakageError(ValueError):
    """A feature would be computed from the target's own outcome columns."""


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    kind: Kind
    sources: frozenset[str]

    @property
    def needs_history(self) -> bool:
        return _HISTORY in self.sources


def _feature(name: str, label: str, kind: Kind, *sources: str) -> Feature:
    return Feature(name, label, kind, frozenset(sources))


CATEGORICAL: tuple[str, ...] = ("channel", "objective", "audience", "segment", "geo", "language")

#: Every feature the builder knows, in model column order.
CATALOG: dict[str, Feature] = {
    f.name: f
    for f in [
        *(_feature(c, c.capitalize(), "category", c) for c in CATEGORICAL),
        _feature("duration_days", "Duration", "days", "duration_days"),
        _feature("spend", "Spend", "currency", "spend"),
        _feature("ctr", "CTR", "percent", *metric("ctr").inputs),
        _feature("cpc", "CPC", "currency", *metric("cpc").inputs),
        _feature("cpm", "CPM", "currency", *metric("cpm").inputs),
        _feature("frequency", "Frequency", "ratio", *metric("frequency").inputs),
        _feature("weekday", "Weekday", "weekday", "date"),
        _feature("month", "Month", "month", "date"),
        _feature("spend_prev1d", "Spend the day before", "currency", "spend", "date", _HISTORY),
        _feature("spend_prev7d", "Spend over the previous 7 days", "currency",
                 "spend", "date", _HISTORY),
        _feature("ctr_prev7d", "CTR over the previous 7 days", "percent",
                 *metric("ctr").inputs, "date", _HISTORY),
        _feature("cpc_prev7d", "CPC over the previous 7 days", "currency",
                 *metric("cpc").inputs, "date", _HISTORY),
        _feature("cpm_prev7d", "CPM over the previous 7 days", "currency",
                 *metric("cpm").inputs, "date", _HISTORY),
    ]
}


@dataclass(frozen=True)
class FeatureSpec:
    """What a model was trained on; everything scoring needs to rebuild identical inputs."""

    target: str
    names: tuple[str, ...]
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    history_key: str | None = None

    @property
    def features(self) -> list[Feature]:
        return [CATALOG[n] for n in self.names]

    def to_dict(self) -> dict:
        return {"target": self.target, "names": list(self.names),
                "levels": {k: list(v) for k, v in self.levels.items()},
                "history_key": self.history_key}

    @classmethod
    def from_dict(cls, d: dict) -> FeatureSpec:
        return cls(d["target"], tuple(d["names"]),
                   {k: tuple(v) for k, v in d["levels"].items()}, d["history_key"])


def check_no_leakage(features: Iterable[Feature], target: str) -> None:
    """Raise LeakageError if any feature is derived from an outcome column of `target`."""
    if target not in LEAKAGE_GUARD:
        raise ValueError(f"unknown target {target!r}; known: {', '.join(LEAKAGE_GUARD)}")
    leaks = {f.name: sorted(f.sources & LEAKAGE_GUARD[target]) for f in features
             if f.sources & LEAKAGE_GUARD[target]}
    if leaks:
        raise LeakageError(f"features derived from the {target} outcome: {leaks}")


def target_values(frame: pd.DataFrame, target: str) -> pd.Series:
    """The target column if given, else computed from its inputs; undefined values are NaN."""
    if target not in TARGET_LABELS:
        raise ValueError(f"unknown target {target!r}; known: {', '.join(TARGET_LABELS)}")
    if target in frame.columns:
        values = pd.to_numeric(frame[target], errors="coerce").astype("float64")
    else:
        m = metric(target)
        missing = [c for c in m.inputs if c not in frame.columns]
        if missing:
            raise ValueError(f"no {target!r} column and cannot compute it: missing {missing}")
        values = m.compute({c: _numeric(frame, c) for c in m.inputs})
    return values.replace([np.inf, -np.inf], np.nan)


def fit_features(frame: pd.DataFrame, target: str) -> tuple[FeatureSpec, pd.DataFrame]:
    """Choose the features this frame supports, freeze them in a spec, and build them.

    A feature is used when its source columns are present and it has at least one value;
    history features only when a campaign key repeats (campaign-day rows), since for one row
    per campaign there is no earlier row to look back at.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"missing required columns: {missing}")
    key = next((k for k in ENTITY_KEYS if k in frame.columns), None)
    has_history = key is not None and frame[key].duplicated().any()
    available = set(frame.columns) | ({_HISTORY} if has_history else set())
    candidates = [f for f in CATALOG.values() if f.sources <= available]
    check_no_leakage(candidates, target)
    raw = _compute(frame, [f.name for f in candidates], key if has_history else None)
    names = tuple(n for n in raw.columns if raw[n].notna().any())
    levels = {n: _levels(raw[n]) for n in names if CATALOG[n].kind == "category"}
    spec = FeatureSpec(target, names, levels, key if has_history else None)
    return spec, _encode(raw[list(names)], spec)


def build_features(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Model inputs for `frame` exactly as the spec's model was trained on (same index).

    Columns absent from `frame` become missing values rather than errors, so a scoring frame
    may lack optional inputs; history features need the campaign's earlier rows in `frame`.
    """
    check_no_leakage(spec.features, spec.target)
    key = spec.history_key if spec.history_key in frame.columns else None
    return _encode(_compute(frame, list(spec.names), key), spec)


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """Labels as trimmed strings, blanks as missing; trimmed per distinct value, not per row."""
    if column not in frame.columns:
        return pd.Series(None, index=frame.index, dtype="object")
    codes, uniques = pd.factorize(frame[column])
    labels = [str(u).strip() or None for u in uniques] + [None]  # code -1 (missing) → None
    return pd.Series(np.array(labels, dtype="object")[codes], index=frame.index)


def _compute(frame: pd.DataFrame, names: list[str], key: str | None) -> pd.DataFrame:
    """Raw (unencoded) feature values; unknown or missing inputs give NaN columns."""
    index, frame = frame.index, frame.reset_index(drop=True)  # any index, even duplicated
    sums = {c: _numeric(frame, c) for c in ("spend", "impressions", "clicks", "reach")}
    dates = (pd.to_datetime(frame["date"], errors="coerce") if "date" in frame.columns
             else pd.Series(pd.NaT, index=frame.index))
    out: dict[str, pd.Series] = {}
    for name in names:
        feature = CATALOG[name]
        if feature.kind == "category":
            out[name] = _text(frame, name)
        elif name in ("ctr", "cpc", "cpm", "frequency"):
            out[name] = metric(name).compute(sums)
        elif name == "weekday":
            out[name] = dates.dt.weekday.astype("float64")
        elif name == "month":
            out[name] = dates.dt.month.astype("float64")
        elif not feature.needs_history:
            out[name] = _numeric(frame, name)
    history = [n for n in names if CATALOG[n].needs_history]
    if history:
        prior = _prior_windows(frame, sums, dates, key)
        for name in history:
            out[name] = prior[name]
    return pd.DataFrame(out, index=frame.index, columns=names).set_axis(index)


def _prior_windows(frame: pd.DataFrame, sums: dict[str, pd.Series], dates: pd.Series,
                   key: str | None) -> pd.DataFrame:
    """Each series' (ad, ad set or campaign: `key`) delivery over the calendar days before
    the row's date.

    Windows are closed on the left so a row never sees its own day (the target's day); rows
    are first summed per series-day so several rows on one day count as that day's total.
    """
    names = ["spend_prev1d", "spend_prev7d", "ctr_prev7d", "cpc_prev7d", "cpm_prev7d"]
    out = np.full((len(frame), len(names)), np.nan)
    keys = pd.factorize(frame[key])[0] if key else np.full(len(frame), -1)
    valid = (keys >= 0) & dates.notna().to_numpy()
    if not valid.any():
        return pd.DataFrame(out, index=frame.index, columns=names)
    measures = ["spend", "impressions", "clicks"]
    days = dates.to_numpy().astype("datetime64[D]").astype("int64")
    daily = (pd.DataFrame({"key": keys[valid], "day": days[valid],
                           **{m: sums[m].to_numpy()[valid] for m in measures}})
             .groupby(["key", "day"], sort=True).sum(min_count=1))
    # One sortable number per series-day, with a gap of more than a week between series, so
    # "the 7 days before" is a searchsorted range that never reaches into another series.
    day_of = daily.index.get_level_values("day").to_numpy()
    first_day, span = day_of.min(), day_of.max() - day_of.min() + 8
    position = daily.index.get_level_values("key").to_numpy() * span + day_of - first_day
    week = {m: _window_sum(daily[m].to_numpy(), position, 7) for m in measures}
    prior = np.column_stack([
        _window_sum(daily["spend"].to_numpy(), position, 1),
        week["spend"],
        *(np.asarray(metric(rate).compute(week)) for rate in ("ctr", "cpc", "cpm")),
    ])
    out[valid] = prior[np.searchsorted(position, keys[valid] * span + days[valid] - first_day)]
    return pd.DataFrame(out, index=frame.index, columns=names)


def _window_sum(values: np.ndarray, position: np.ndarray, days: int) -> np.ndarray:
    """Sum over the series' `days` days before each row's day (NaN if none had a value)."""
    start = np.searchsorted(position, position - days, side="left")
    end = np.arange(len(position))
    total = np.concatenate([[0.0], np.cumsum(np.nan_to_num(values))])
    count = np.concatenate([[0], np.cumsum(~np.isnan(values))])
    return np.where(count[end] > count[start], total[end] - total[start], np.nan)


def _levels(values: pd.Series) -> tuple[str, ...]:
    """The most frequent levels (at most MAX_LEVELS), sorted so codes are reproducible."""
    counts = values.dropna().value_counts()
    return tuple(sorted(counts.index[:MAX_LEVELS].astype(str)))


def _encode(raw: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Fixed dtypes for XGBoost: categories with the trained levels (others missing), finite
    floats (XGBoost reads inf as a value, not as missing)."""
    out = raw.copy()
    for name in spec.names:
        if CATALOG[name].kind == "category":
            out[name] = pd.Categorical(out[name], categories=list(spec.levels[name]))
        else:
            out[name] = out[name].astype("float64").replace([np.inf, -np.inf], np.nan)
    return out
