"""Fitted response curves as self-describing bytes, for storing them in the database.

The hourly job fits curves (one fit per target: revenue, conversions) and the Budget page
loads them in another process. A ``.npz`` archive of the numeric arrays plus a JSON header is used rather
than pickle, so loading a stored artefact can never run code (``allow_pickle=False``), and a
change to the ``Curves`` class fails loudly on load instead of unpickling into a stale shape.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import fields

import numpy as np
import pandas as pd

from modeling.budget import LIFT_COLUMNS, Curves
from modeling.response import MixParams

FORMAT = 1
_ARRAYS = ("baseline_level_draws", "season_level", "season_level_draws")


def to_bytes(fits: Mapping[str, Curves]) -> bytes:
    """One archive for several fits, keyed by name (the target each was fitted on)."""
    arrays: dict[str, np.ndarray] = {}
    headers = {}
    for key, curves in fits.items():
        headers[key] = _pack(curves, arrays, f"{key}/")
    header = {"format": FORMAT, "fits": headers}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def from_bytes(blob: bytes) -> dict[str, Curves]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        data = {name: archive[name] for name in archive.files}
    header = json.loads(data.pop("header").tobytes().decode())
    if header["format"] != FORMAT:
        raise ValueError(f"stored curves are format {header['format']}, this code reads {FORMAT}")
    return {key: _unpack(meta, data, f"{key}/") for key, meta in header["fits"].items()}


def _pack(curves: Curves, arrays: dict[str, np.ndarray], prefix: str) -> dict:
    for which in ("point", "draws"):
        params = getattr(curves, which)
        for f in fields(MixParams):
            arrays[f"{prefix}{which}.{f.name}"] = np.asarray(getattr(params, f.name), float)
    for name in _ARRAYS:
        arrays[prefix + name] = np.asarray(getattr(curves, name), float)
    arrays[prefix + "baseline"] = curves.baseline.to_numpy(float)
    arrays[prefix + "baseline_dates"] = curves.baseline.index.to_numpy().astype("datetime64[D]")
    arrays[prefix + "current"] = curves.current.reindex(list(curves.channels)).to_numpy(float)
    for column in curves.roi.columns:
        arrays[f"{prefix}roi.{column}"] = curves.roi[column].to_numpy(float)
    lift = curves.lift.assign(**{c: pd.to_datetime(curves.lift[c]).dt.strftime("%Y-%m-%d")
                                 for c in ("date_from", "date_to")})
    return {"channels": list(curves.channels), "target": curves.target,
            "target_source": curves.target_source, "baseline_level": curves.baseline_level,
            "r2": curves.r2, "roi_columns": list(curves.roi.columns),
            "lift": lift.to_dict("records"), "lift_columns": list(lift.columns)}


def _lift(meta: dict) -> pd.DataFrame:
    """The lift table; curves stored before lift tests existed have none."""
    columns = meta.get("lift_columns", [*LIFT_COLUMNS, "modelled", "modelled_lo", "modelled_hi"])
    lift = pd.DataFrame(meta.get("lift", []), columns=columns)
    for column in ("date_from", "date_to"):
        lift[column] = pd.to_datetime(lift[column])
    return lift


def _unpack(meta: dict, data: dict[str, np.ndarray], prefix: str) -> Curves:
    index = pd.Index(meta["channels"], name="channel")
    point, draws = (MixParams(**{f.name: data[f"{prefix}{which}.{f.name}"] for f in fields(MixParams)})
                    for which in ("point", "draws"))
    dates = pd.DatetimeIndex(data[prefix + "baseline_dates"].astype("datetime64[ns]"), freq="D")
    return Curves(
        channels=tuple(meta["channels"]), target=meta["target"], target_source=meta["target_source"],
        point=point, draws=draws,
        baseline=pd.Series(data[prefix + "baseline"], index=dates, name="baseline"),
        baseline_level=float(meta["baseline_level"]),
        **{name: data[prefix + name] for name in _ARRAYS},
        roi=pd.DataFrame({c: data[f"{prefix}roi.{c}"] for c in meta["roi_columns"]}, index=index),
        current=pd.Series(data[prefix + "current"], index=index), r2=float(meta["r2"]),
        lift=_lift(meta))
