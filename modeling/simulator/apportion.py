"""Splitting integer totals into integer parts that add up exactly.

Hourly and audience breakdowns must sum to the daily rows *exactly* (counts, and money as
integer cents). We use cumulative rounding: part_i = R(total·W_i/W) − R(total·W_{i-1}/W) with
R(x) = ⌊x + ½⌋ and W_i the running weight sum. Compared with largest-remainder rounding it needs
no sort, and it has two properties the simulator relies on:

* Splitting a total ``c`` with the *parts of a larger total* ``n ≥ c`` as weights never gives
  any part more than the corresponding part of ``n`` (R(x + k) = R(x) + k for integer k), so
  chaining clicks ← impressions or conversions ← leads keeps clicks ≤ impressions and
  conversions ≤ leads in every hour and every audience cell.
* Part i depends only on weights up to i, so truncating a day after hour h leaves hours < h
  unchanged — an hourly sync sees earlier hours stay put.
"""
from __future__ import annotations

import numpy as np


def apportion(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each total (shape ``S``) over the last axis of ``weights`` (shape ``S + (k,)``).

    Rows whose weights are all zero are split evenly rather than lost.
    """
    totals = np.asarray(totals, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    wsum = w.sum(axis=-1, keepdims=True)
    empty = wsum <= 0
    if empty.any():
        w = np.where(empty, 1.0, w)
        wsum = w.sum(axis=-1, keepdims=True)
    edges = np.floor(np.cumsum(w, axis=-1) / wsum * totals[..., None] + 0.5).astype(np.int64)
    edges[..., -1] = totals
    return np.diff(edges, axis=-1, prepend=0)


def apportion_groups(totals: np.ndarray, weights: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Ragged variant: element j belongs to ``group[j]`` (sorted, contiguous groups 0..G-1).

    Pads the groups into a dense matrix so the rounding rule lives in one place.
    """
    group = np.asarray(group)
    sizes = np.bincount(group, minlength=len(totals))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    pos = np.arange(len(group)) - starts[group]
    dense = np.zeros((len(totals), max(int(sizes.max(initial=0)), 1)))
    dense[group, pos] = weights
    # Padding cells carry zero weight, so they receive nothing unless a group is all-zero;
    # such groups get their weights set to 1 on real cells only.
    real = np.zeros_like(dense, dtype=bool)
    real[group, pos] = True
    all_zero = dense.sum(axis=1) <= 0
    dense[all_zero[:, None] & real] = 1.0
    return apportion(totals, dense)[group, pos]
