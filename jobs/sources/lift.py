"""Lift-test results from a file (CSV or XLSX): the experiments that calibrate the curves.

Columns by name, case and punctuation ignored: channel, date_from, date_to, metric
(revenue or conversions; default revenue), lift (the incremental outcome the channel's spend
brought in the window), standard_error, and optionally spend and currency. Robyn's
``calibration_input`` names are understood too (liftStartDate, liftEndDate, liftAbs), and a
95 % interval (ci_low, ci_high) stands in for a missing standard error, as studies often
report one instead.
"""
from __future__ import annotations

import pandas as pd
from scipy.special import ndtri

from jobs.sources.upload import (
    UploadError,
    dates_day_first,
    normalise_title,
    parse_money,
    platform_slug,
    read_date,
    read_table,
)

SYNONYMS: dict[str, tuple[str, ...]] = {
    "channel": ("channel", "platform", "media", "канал"),
    "date_from": ("date_from", "liftstartdate", "lift_start_date", "start_date", "start"),
    "date_to": ("date_to", "liftenddate", "lift_end_date", "end_date", "end"),
    "metric": ("metric", "kpi"),
    "lift": ("lift", "liftabs", "lift_abs", "incremental", "incremental_outcome", "delta_y"),
    "standard_error": ("standard_error", "se", "std_error", "sigma"),
    "ci_low": ("ci_low", "lower", "lo95"),
    "ci_high": ("ci_high", "upper", "hi95"),
    "spend": ("spend", "cost"),
    "currency": ("currency", "валюта"),
}


#: The normal quantile a 95 % interval spans on each side (for ci_low / ci_high → standard error).
Z95 = float(ndtri(0.975))


def _amount(value: object) -> float:
    """An amount, or NaN for an empty or unreadable cell (reported with its row on storing)."""
    try:
        return parse_money(value)
    except ValueError:
        return float("nan")


def _days(cells: pd.Series, day_first: bool) -> pd.Series:
    """Dates as the upload reads them (ISO, 01.06.2026, slashes, Excel dates); an unreadable
    cell becomes missing and is reported with its row on storing."""

    def one(value: object) -> str | None:
        try:
            return read_date(value, day_first, hourly=False)[0]
        except ValueError:
            return None
    return cells.map(one)


def _columns(frame: pd.DataFrame) -> dict[str, str]:
    titles = {normalise_title(str(c)): c for c in frame.columns}
    return {key: titles[s] for key, names in SYNONYMS.items() for s in names if s in titles}


def read_lift_tests(data: bytes, filename: str) -> pd.DataFrame:
    """The file as [channel, date_from, date_to, metric, lift, standard_error, spend,
    currency]; values are checked when they are stored (``db.ingest.ingest_lift_tests``)."""
    frame = read_table(data, filename)
    found = _columns(frame)
    has_error = "standard_error" in found or {"ci_low", "ci_high"} <= set(found)
    missing = [k for k in ("channel", "date_from", "date_to", "lift") if k not in found]
    if missing or not has_error:
        need = missing + ([] if has_error else ["standard_error (or ci_low and ci_high)"])
        raise UploadError(f"{filename}: missing columns {', '.join(need)}; found "
                          f"{', '.join(map(str, frame.columns))}")

    def money(key: str) -> pd.Series:
        if key not in found:
            return pd.Series(float("nan"), index=frame.index)
        return frame[found[key]].map(_amount)

    # Slash dates are day-first when any cell of either date column says so (13/07 cannot be a month).
    day_first = dates_day_first(pd.concat([frame[found["date_from"]], frame[found["date_to"]]]))
    error = money("standard_error")
    if "standard_error" not in found:
        error = (money("ci_high") - money("ci_low")) / (2 * Z95)
    return pd.DataFrame({
        "channel": frame[found["channel"]].map(platform_slug),
        "date_from": _days(frame[found["date_from"]], day_first), "date_to": _days(frame[found["date_to"]], day_first),
        "metric": (frame[found["metric"]].where(frame[found["metric"]].notna()
                                                & frame[found["metric"]].astype(str).str.strip().ne(""), "revenue")
                   if "metric" in found else "revenue"),
        "lift": money("lift"), "standard_error": error, "spend": money("spend"),
        **({"currency": frame[found["currency"]]} if "currency" in found else {}),
    })
