"""From campaign-day predictions to one score per campaign over a window, SHAP included.

A campaign's ROI over a window is Σrevenue / Σspend − 1, which is exactly the spend-weighted mean
of its daily ROIs; so its predicted ROI is the spend-weighted mean of its daily predictions, and
(SHAP being additive) the same weighted mean of its daily SHAP values still sums to it. The
interval is the daily one moved with the prediction: the range a single day's ROI is expected
in, which is wider than the window average's own uncertainty.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from db.metrics import get as metric
from modeling import roi_model
from modeling.features import CATALOG
from modeling.roi_model import RoiModel

#: The denominator of each target: what a window's value is a weighted mean of days by.
WEIGHTS: dict[str, str] = {"roi": "spend", "roas": "spend", "cr": "clicks"}
#: Feature kinds shown as the campaign's most-weighted value rather than a weighted mean
#: (a mean weekday or a mean channel means nothing).
DISCRETE = frozenset({"category", "weekday", "month"})


def score_campaigns(model: RoiModel, frame: pd.DataFrame, date_from: dt.date,
                    date_to: dt.date) -> pd.DataFrame:
    """One row per campaign with weight in [date_from, date_to]: prediction, lo, hi, actual,
    spend, `shap` (dict feature → contribution plus base_value) and `features` (dict).

    `frame` holds campaign-day rows (`campaign_id`, `date`, measures) and should start a week
    before `date_from`, so the first days' history features see their earlier days.
    """
    columns = ["campaign_id", "prediction", "lo", "hi", "actual", "spend", "shap", "features"]
    dates = pd.to_datetime(frame["date"])
    weight = pd.to_numeric(frame[WEIGHTS[model.target]], errors="coerce").fillna(0.0)
    rows = (dates >= pd.Timestamp(date_from)) & (dates <= pd.Timestamp(date_to)) & (weight > 0)
    if not rows.any():
        return pd.DataFrame(columns=columns)
    predicted = roi_model.predict(model, frame)[rows]
    shap = roi_model.explain(model, frame)[rows]
    inputs = roi_model.features(model, frame)[rows]
    window, w = frame[rows], weight[rows]
    keys = window["campaign_id"].to_numpy()
    total = w.groupby(keys).sum()

    def weighted_mean(values: pd.DataFrame) -> pd.DataFrame:
        return values.mul(w, axis=0).groupby(keys).sum().div(total, axis=0)

    point = weighted_mean(predicted)
    contributions = weighted_mean(shap)
    values = _representative_values(model, inputs, w, keys)
    sums = window.groupby(keys)[list(metric(model.target).inputs)].sum()
    actual = metric(model.target).compute({c: sums[c] for c in sums.columns})
    out = pd.DataFrame({
        "campaign_id": point.index.astype(int),
        "prediction": point["prediction"].to_numpy(), "lo": point["lo"].to_numpy(),
        "hi": point["hi"].to_numpy(), "actual": np.asarray(actual, dtype="float64"),
        "spend": window.groupby(keys)["spend"].sum().reindex(point.index).to_numpy(),
        "shap": [dict(r) for r in contributions.to_dict("records")],
        "features": [dict(r) for r in values.reindex(point.index).to_dict("records")],
    })
    return out[columns].reset_index(drop=True)


def _representative_values(model: RoiModel, inputs: pd.DataFrame, w: pd.Series,
                           keys: np.ndarray) -> pd.DataFrame:
    """The feature values a campaign's aggregated contributions refer to: the weighted mean for
    measures (in whole days for durations), the value with the most weight for categories,
    weekdays and months. Missing values stay missing (None), as the model treats them."""
    out: dict[str, pd.Series] = {}
    for name in model.feature_names:
        column = inputs[name]
        if CATALOG[name].kind in DISCRETE:
            known = pd.DataFrame({"key": keys, "value": column.astype(object).to_numpy(),
                                  "w": w.to_numpy()}).dropna(subset=["value"])
            top = (known.groupby(["key", "value"], as_index=False)["w"].sum()
                   .sort_values(["w", "value"], ascending=[False, True], kind="stable")
                   .drop_duplicates("key").set_index("key")["value"])
            out[name] = top
        else:
            numbers = column.astype("float64")
            has = numbers.notna()
            num = (numbers.fillna(0.0) * w).groupby(keys).sum()
            den = (w * has).groupby(keys).sum()
            mean = num.div(den.where(den > 0))
            out[name] = mean.round() if CATALOG[name].kind == "days" else mean
    frame = pd.DataFrame(out)
    return frame.astype(object).where(frame.notna(), None)
