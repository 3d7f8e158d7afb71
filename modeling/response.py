"""Adstock + Hill response curves in a marketing-mix model: what a curve is.

The model is the usual marketing-mix one (Meridian, PyMC-Marketing, Robyn):

    y_t   = exp(B_t · b) + Σ_c beta_c · f_c,t                      (the business's outcome)
    f_c,t = m_c,t · hill(adstock_c(x_c)_t; k_c, n_c),  m_c,t = exp(S_t · s_c)

* a log-linear baseline (B: intercept, trend, day of week, yearly harmonic), so trend,
  week and season multiply, as they do in a business's sales;
* a normalised geometric adstock (weights (1-λ)λ^l sum to 1, so a constant spend s has a
  steady-state adstock of s and ``k`` stays in spend-per-day units) and a Hill saturation;
* a yearly demand multiplier m on each channel's effect (the same ad sells more in high
  season), with a year of data or more.

How it is fitted, with which priors and how its uncertainty is drawn: ``modeling.mmm_fit``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.signal import lfilter

YEAR_DAYS = 365


@dataclass(frozen=True)
class MixParams:
    """One fitted mix. In normalised units k is in mean-spend units and beta in mean-outcome
    units; ``scaled`` gives data units. Fields may carry a leading axis of bootstrap draws.

    ``season`` is channels × season terms (no columns under a year of data);
    ``attribution`` what a platform claims per unit it causes (ones when not fitted).
    """

    decay: np.ndarray
    k: np.ndarray
    n: np.ndarray
    beta: np.ndarray
    base: np.ndarray
    season: np.ndarray
    attribution: np.ndarray


@dataclass(frozen=True)
class MixDesign:
    """Day-level covariates: the baseline's columns and the demand multiplier's columns."""

    base: np.ndarray
    season: np.ndarray

    def multiplier(self, params: MixParams) -> np.ndarray:
        """m per day and channel (draws × days × channels for stacked draws)."""
        return np.exp(np.einsum("ts,...cs->...tc", self.season, params.season))

    def tail(self, days: int) -> MixDesign:
        return MixDesign(self.base[-days:], self.season[-days:])


def mix_design(dates: pd.DatetimeIndex) -> MixDesign:
    """Intercept, linear trend, six day-of-week contrasts (Monday the reference) and, with a
    year of data or more, one yearly harmonic — for the baseline and the demand multiplier.

    The yearly terms go beyond "trend + weekly" on purpose: a business's season easily moves
    the outcome more than all channels together, and a spend regime that happens to line up
    with it would otherwise take the credit. Under a year the harmonic cannot be told from
    the trend, so it is left out.
    """
    t = np.linspace(-0.5, 0.5, len(dates))
    weekday = np.asarray(dates.dayofweek)
    dummies = (weekday[:, None] == np.arange(1, 7)[None, :]).astype(float)
    season = np.empty((len(dates), 0))
    if len(dates) >= YEAR_DAYS:
        angle = 2 * np.pi * np.asarray(dates.dayofyear) / 365.25
        season = np.column_stack([np.cos(angle), np.sin(angle)])
    return MixDesign(np.column_stack([np.ones(len(dates)), t, dummies, season]), season)


def geometric_adstock(x: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """Normalised geometric adstock of each column of ``x`` (days × channels).

    The carry-over before day 0 is taken as the first week's mean spend (a steady state),
    so the first days of a window are not treated as if spend had just switched on.
    """
    out = np.empty_like(x, dtype=float)
    for c, lam in enumerate(np.atleast_1d(decay)):
        prior = x[: min(7, len(x)), c].mean()
        out[:, c], _ = lfilter([1 - lam], [1, -lam], x[:, c], zi=[lam * prior])
    return out


def hill(a: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Share of the maximum response reached at (adstocked) spend ``a``: a^n / (a^n + k^n)."""
    with np.errstate(over="ignore"):  # adstock decaying toward 0 (a held-out window): hill → 0
        ratio = np.divide(k, a, out=np.full(np.broadcast(a, k).shape, np.inf), where=a > 0)
        return 1.0 / (1.0 + ratio ** n)


def hill_slope(a: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """d hill / d a: the marginal response per unit of (steady-state) spend."""
    h = hill(a, k, n)
    return np.divide(n * h * (1 - h), a, out=np.zeros_like(h), where=a > 0)


def contributions(x: np.ndarray, design: MixDesign, params: MixParams) -> np.ndarray:
    """Per-channel contribution to the outcome, days × channels."""
    curve = params.beta * hill(geometric_adstock(x, params.decay), params.k, params.n)
    return curve * design.multiplier(params)


def baseline(design: MixDesign, params: MixParams) -> np.ndarray:
    """The outcome without any paid media, per day (days × draws for stacked draws)."""
    return np.exp(design.base @ params.base.T)


def adstock_decay_derivative(x: np.ndarray, a: np.ndarray, decay: float) -> np.ndarray:
    """∂a_t/∂λ for a_t = (1-λ)x_t + λa_{t-1}: it obeys g_t = a_{t-1} - x_t + λ g_{t-1}.

    For the fit's Jacobian; kept beside ``geometric_adstock`` because both must start from
    the same carry-over before day 0.
    """
    prior = x[: min(7, len(x))].mean()
    a_prev = np.concatenate([[prior], a[:-1]])
    return lfilter([1.0], [1.0, -decay], a_prev - x)


def scaled(params: MixParams, spend_scale: np.ndarray, outcome_scale: float) -> MixParams:
    """The same mix in data units: k in spend per day, beta and baseline in outcome per day."""
    base = params.base.copy()
    base[..., 0] += np.log(outcome_scale)
    return replace(params, k=params.k * spend_scale, beta=params.beta * outcome_scale,
                   base=base)


def stack(draws: list[MixParams]) -> MixParams:
    """Bootstrap fits stacked on a leading axis, for vectorised use."""
    fields = ("decay", "k", "n", "beta", "base", "season", "attribution")
    return MixParams(*(np.stack([getattr(d, f) for d in draws]) for f in fields))
