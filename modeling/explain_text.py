"""SHAP values in plain words, and global importance for bar / beeswarm charts.

A marketer reads "CTR 0.80% lowers predicted ROI by 0.40" faster than a waterfall chart, so the
drivers of one prediction are phrased with the feature's human label and its value in the
unit it is thought of in (percent for rates, money for costs, names for weekdays and months).
"""
from __future__ import annotations

import calendar

import pandas as pd

from db import metrics as mx

from db.metrics import format_value
from modeling.features import CATALOG, TARGET_LABELS, Feature
from modeling.roi_model import RoiModel


def format_feature_value(feature: Feature, value: object, currency: str = "USD") -> str:
    """A feature value as a marketer writes it; missing values (which the model treats as a
    value of their own) read "unknown"."""
    if pd.isna(value):
        return "unknown"
    if feature.kind == "category":
        return str(value)
    if feature.kind in ("currency", "percent", "ratio"):
        return format_value(float(value), feature.kind, currency)
    if feature.kind == "days":
        return f"{float(value):g} days"
    if feature.kind == "weekday":
        return calendar.day_name[int(value)]
    return calendar.month_name[int(value)]


def _effect(target: str, amount: float) -> str:
    """Size of a SHAP contribution in the unit the pages show the target in (db.metrics):
    percentages (ROI, CR) move in percentage points, multiples (ROAS) in ×."""
    kind = mx.get(target).kind
    if kind == "percent":
        return f"{abs(amount) * 100:.1f} pp"
    if kind == "multiple":
        return f"{abs(amount):.2f}×"
    return f"{abs(amount):.2f}"


def drivers(model: RoiModel, feature_row: pd.Series, shap_row: pd.Series, top: int = 5,
            currency: str = "USD") -> list[str]:
    """The `top` strongest contributions to one prediction, strongest first, as sentences.

    `feature_row` is the row's model inputs (:func:`modeling.roi_model.features`) and
    `shap_row` its SHAP values (:func:`modeling.roi_model.explain`); the values are needed
    because "CTR lowers ROI" means little without saying which CTR. Features with no
    contribution at all are left out.
    """
    contributions = shap_row[model.feature_names].astype("float64")
    contributions = contributions[contributions != 0]
    strongest = contributions.abs().sort_values(ascending=False, kind="stable").index[:top]
    target = TARGET_LABELS[model.target]
    sentences = []
    for name in strongest:
        feature, amount = CATALOG[name], float(contributions[name])
        value = format_feature_value(feature, feature_row[name], currency)
        joiner = " = " if feature.kind in ("category", "weekday", "month") else " "
        subject = f"{feature.label}{joiner}{value}"
        verb = "raises" if amount > 0 else "lowers"
        sentences.append(f"{subject} {verb} predicted {target} by {_effect(model.target, amount)}")
    return sentences


def global_importance(shap_frame: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| per feature, most important first, with the human label for chart axes
    (the `base_value` column is skipped)."""
    values = shap_frame.drop(columns=["base_value"], errors="ignore").abs().mean()
    ordered = values.sort_values(ascending=False, kind="stable")
    return pd.DataFrame({"feature": ordered.index,
                         "label": [CATALOG[name].label for name in ordered.index],
                         "mean_abs_shap": ordered.to_numpy()})
