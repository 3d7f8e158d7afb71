"""Response curves per channel, modelled vs. platform-reported ROI, and budget plans.

``fit`` estimates adstock + Hill curves for all channels against the business's total
outcome, next to a baseline (trend, day of week, season), as a marketing-mix model does:
platforms claim every conversion their ads touched, so per-channel reported revenue
overstates what the channel causes, and only the total outcome tells how much would be lost
without it. The platforms' daily claims still carry the curves' shapes; see
``modeling.mmm_fit`` for how the two sources are combined.

ROI follows Meridian and PyMC-Marketing: outcome lost if the channel's spend had been zero
over the window, per unit of spend (not net of the spend: 1.0 means break-even on revenue).
mROI is the outcome gained by 1 % more spend over the window, per unit of that extra spend.

Lift tests (geo holdouts: what a channel's spend brought during a test window, with a
standard error) calibrate the curves' sizes where the outcome alone cannot; ``Curves.lift``
sets each test beside what the fitted curves say it should have measured.

The bootstrap fits stand in for a posterior (each refit also draws the priors' centres, see
``modeling.mmm_fit``): ROI and mROI are reported as their mean over the fits with 95 %
quantile intervals, as Meridian reports posterior means, and plans maximise the mean
response over the fits. On the demo simulator (bench/bench_budget.py, 8 seeds) the means
were closer to the truth than the single best fit, whose ROI can even fall outside its own
interval, and plans on the mean response kept more of the attainable gain when a curve's
shape was poorly determined.

Plans work on steady-state daily spend: a spend s held long enough that adstock equals s, so
a channel's daily response is beta · hill(s). All money is in the units of the spend column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from modeling import mmm_fit
from modeling import response as rm
from modeling.allocate import allocate

CURRENT_DAYS = 28
#: Log-normal prior (median, log-sd) on how much a platform over-claims what it causes:
#: median 1.4, 95 % between 0.7 and 2.8. Platform-attributed conversions typically run well
#: above incrementality-test results; the prior steers channels whose effect the outcome
#: cannot resolve (small spend, little variation) toward "claims ÷ 1.4" instead of toward
#: zero or infinity, while well-measured channels move away from it freely. The bootstrap
#: draws its centre from it too, so such a channel's interval is as wide as the prior says.
ATTRIBUTION_PRIOR = (1.4, 0.35)
ALPHA = 0.05
LIFT_COLUMNS = ("channel", "date_from", "date_to", "lift", "standard_error")
Objective = Literal["revenue", "conversions", "target_cpa"]


@dataclass(frozen=True)
class Curves:
    """Fitted curves in data units; ``draws`` holds the bootstrap fits stacked on axis 0.

    ``roi`` has one row per channel: spend (window total), reported_roi, modelled_roi,
    modelled_roi_lo/hi, mroi, mroi_lo/hi, contribution (window total; these three are means
    over the draws, lo/hi their 2.5 % and 97.5 % quantiles) and attribution (the point fit's
    ratio of a platform's claims to what it causes; 1 when not fitted). ``baseline``
    is the fitted baseline per day. Plans build on the last CURRENT_DAYS days: the
    baseline's mean level there and the demand multiplier's (``*_level``, with draws).
    """

    channels: tuple[str, ...]
    target: str
    target_source: Literal["outcome", "reported"]
    point: rm.MixParams
    draws: rm.MixParams
    baseline: pd.Series
    baseline_level: float
    baseline_level_draws: np.ndarray
    season_level: np.ndarray
    season_level_draws: np.ndarray
    roi: pd.DataFrame
    current: pd.Series
    r2: float
    lift: pd.DataFrame

    @property
    def params(self) -> pd.DataFrame:
        """decay, k (spend/day at half saturation), n, beta (outcome/day at saturation)."""
        p = self.point
        return pd.DataFrame({"decay": p.decay, "k": p.k, "n": p.n, "beta": p.beta,
                             "attribution": p.attribution},
                            index=pd.Index(self.channels, name="channel"))

    @property
    def modelled_roi(self) -> pd.Series:
        return self.roi["modelled_roi"]

    @property
    def reported_roi(self) -> pd.Series:
        return self.roi["reported_roi"]

    @property
    def mroi(self) -> pd.Series:
        return self.roi["mroi"]

    def response(self, spend: np.ndarray, draws: bool = False) -> np.ndarray:
        """Steady-state daily response per channel to daily spend (draws × channels if
        ``draws``), at the recent demand level."""
        if draws:
            p, level = self.draws, self.season_level_draws
        else:
            p, level = self.point, self.season_level
        return level * p.beta * rm.hill(np.asarray(spend, float), p.k, p.n)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        """Steady-state marginal response per unit of spend (point fit)."""
        p = self.point
        return self.season_level * p.beta * rm.hill_slope(np.asarray(spend, float), p.k, p.n)

    def expected_response(self, spend: np.ndarray) -> np.ndarray:
        """Posterior-mean steady-state daily response per channel: the mean over the bootstrap
        fits. ``spend`` may carry leading axes (channels last).

        Plans maximise this rather than the point fit's response: the expected return of a
        split is what a risk-neutral budget owner gets on average, and averaging over the fits
        weighs a curve shape the data cannot pin down by how plausible each version of it is
        instead of betting everything on one.
        """
        return self.response(np.asarray(spend, float)[..., None, :], draws=True).mean(axis=-2)

    def expected_marginal(self, spend: np.ndarray) -> np.ndarray:
        """d expected_response / d spend per channel."""
        p = self.draws
        a = np.asarray(spend, float)[..., None, :]
        return (self.season_level_draws * p.beta * rm.hill_slope(a, p.k, p.n)).mean(axis=-2)


@dataclass(frozen=True)
class Plan:
    """A recommended daily split and what it is expected to bring, with 95 % intervals.

    ``expected`` and ``uplift`` are (mean, lo, hi) over the bootstrap fits of the
    steady-state daily outcome (baseline included) and of its change against the current
    split. ``table`` has one row per channel: current, recommended, change, saturation (point
    fit) and expected marginal return before and after, and the reason.
    """

    objective: str
    split: dict[str, float]
    current: dict[str, float]
    expected: tuple[float, float, float]
    uplift: tuple[float, float, float]
    reasons: dict[str, str]
    table: pd.DataFrame


def _pivot(daily: pd.DataFrame, column: str, dates: pd.DatetimeIndex) -> pd.DataFrame:
    sums = daily.groupby(["date", "channel"])[column].sum().unstack("channel", fill_value=0.0)
    return sums.reindex(dates, fill_value=0.0).sort_index(axis=1)


def _outcome_series(outcome: pd.DataFrame | pd.Series, target: str,
                    dates: pd.DatetimeIndex) -> np.ndarray:
    series = (outcome if isinstance(outcome, pd.Series)
              else outcome.assign(date=pd.to_datetime(outcome["date"])).set_index("date")[target])
    series = series.groupby(level=0).sum().reindex(dates)
    if series.isna().any():
        raise ValueError(f"outcome lacks {int(series.isna().sum())} of the {len(dates)} days")
    return series.to_numpy(float)


def _interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return tuple(np.quantile(values, [ALPHA / 2, 1 - ALPHA / 2], axis=0))


def _window_returns(spend: np.ndarray, design: rm.MixDesign, params: rm.MixParams
                    ) -> tuple[np.ndarray, ...]:
    """(contribution, ROI, mROI) per channel over the window, data units."""
    base = rm.contributions(spend, design, params).sum(axis=0)
    up = rm.contributions(spend * 1.01, design, params).sum(axis=0)
    total = spend.sum(axis=0)
    return base, base / total, (up - base) / (0.01 * total)


def _lift(tests: pd.DataFrame | None, channels: list[str], dates: pd.DatetimeIndex,
          outcome_scale: float) -> tuple[pd.DataFrame, mmm_fit.Lift | None]:
    """The tests whose channel was fitted and whose window lies inside the fitted days."""
    if tests is None or tests.empty:
        none = pd.DataFrame(columns=list(LIFT_COLUMNS))
        return none.astype({"date_from": "datetime64[ns]", "date_to": "datetime64[ns]", "lift": float,
                            "standard_error": float}), None
    missing = set(LIFT_COLUMNS) - set(tests.columns)
    if missing:
        raise ValueError(f"lift tests lack the columns {sorted(missing)}")
    used = tests.assign(date_from=pd.to_datetime(tests["date_from"]),
                        date_to=pd.to_datetime(tests["date_to"]))
    used = used[used["channel"].isin(channels) & (used["date_from"] >= dates[0])
                & (used["date_to"] <= dates[-1]) & (used["date_to"] >= used["date_from"])
                & (used["standard_error"] > 0)]
    used = used[list(LIFT_COLUMNS)].sort_values(["channel", "date_from"], ignore_index=True)
    if used.empty:
        return used, None
    days = dates.to_numpy()
    mask = ((days[None, :] >= used["date_from"].to_numpy()[:, None])
            & (days[None, :] <= used["date_to"].to_numpy()[:, None]))
    return used, mmm_fit.Lift(channel=used["channel"].map(channels.index).to_numpy(),
                              mask=mask, value=used["lift"].to_numpy(float) / outcome_scale,
                              se=used["standard_error"].to_numpy(float) / outcome_scale)


def fit(daily: pd.DataFrame, outcome: pd.DataFrame | pd.Series | None = None,
        target: str = "revenue", seed: int = 0, n_boot: int = 40,
        shape_from_reports: bool = True,
        attribution_prior: tuple[float, float] | None = ATTRIBUTION_PRIOR,
        lift_tests: pd.DataFrame | None = None) -> Curves:
    """Fit curves from ``daily`` [date, channel, spend, <target>] (target = platform-reported).

    ``outcome`` is the business total per day — a frame with [date, <target>] or a date-indexed
    series. With it, the platforms' daily claims give the curves' shapes and the outcome their
    true sizes (see ``modeling.mmm_fit``; each platform is assumed to over-claim by a
    constant factor, with ``attribution_prior`` on it), or, with ``shape_from_reports=False``,
    the outcome alone gives both. Without it, the curves describe the claims themselves
    (attribution 1, no baseline), and "modelled" ROI is just a smoothed reported ROI.
    ``lift_tests`` [channel, date_from, date_to, lift, standard_error] are experiment
    results in the target's units (incremental outcome of the channel's spend during the
    window); those inside the fitted days calibrate the sizes (two-stage fit only).
    Channels that never spent are left out. Days with no row count as zero spend. Same data
    and seed give the same curves.
    """
    if n_boot < 2:
        raise ValueError("n_boot must be at least 2 for an interval")
    data = daily.assign(date=pd.to_datetime(daily["date"]))
    dates = pd.date_range(data["date"].min(), data["date"].max(), freq="D")
    spend = _pivot(data, "spend", dates)
    spend = spend.loc[:, spend.sum() > 0]
    reported = _pivot(data, target, dates).reindex(columns=spend.columns, fill_value=0.0)
    x = spend.to_numpy(float)
    y = (reported.sum(axis=1).to_numpy(float) if outcome is None
         else _outcome_series(outcome, target, dates))
    spend_scale, outcome_scale = x.mean(axis=0), float(np.mean(y))
    design = rm.mix_design(dates)
    y_fit = None if outcome is None else y / outcome_scale
    claims = (reported.to_numpy(float) / outcome_scale
              if outcome is None or shape_from_reports else None)
    lift_table, lift = _lift(lift_tests, list(spend.columns), dates, outcome_scale)
    best, noise = mmm_fit.fit_mix(x / spend_scale, y_fit, design, claims, attribution_prior,
                                  lift)
    boot = [rm.scaled(b, spend_scale, outcome_scale) for b in
            mmm_fit.bootstrap_mix(x / spend_scale, y_fit, design, best, noise, n_boot, seed,
                                  claims, attribution_prior, lift)]
    point, draws = rm.scaled(best, spend_scale, outcome_scale), rm.stack(boot)

    returns = np.array([_window_returns(x, design, b) for b in boot])  # draws × 3 × channels
    contribution, roi, mroi = returns.mean(axis=0)
    roi_lo, roi_hi = _interval(returns[:, 1])
    mroi_lo, mroi_hi = _interval(returns[:, 2])
    channels = tuple(spend.columns)
    table = pd.DataFrame({
        "spend": x.sum(axis=0), "reported_roi": reported.sum().to_numpy() / x.sum(axis=0),
        "modelled_roi": roi, "modelled_roi_lo": roi_lo, "modelled_roi_hi": roi_hi,
        "mroi": mroi, "mroi_lo": mroi_lo, "mroi_hi": mroi_hi, "contribution": contribution,
        "attribution": point.attribution,
    }, index=pd.Index(channels, name="channel"))
    baseline = rm.baseline(design, point)
    recent = design.tail(CURRENT_DAYS)
    fitted = baseline + rm.contributions(x, design, point).sum(axis=1)
    return Curves(
        channels=channels, target=target,
        target_source="reported" if outcome is None else "outcome",
        point=point, draws=draws, baseline=pd.Series(baseline, index=dates, name="baseline"),
        baseline_level=float(baseline[-CURRENT_DAYS:].mean()),
        baseline_level_draws=rm.baseline(recent, draws).mean(axis=0),
        season_level=recent.multiplier(point).mean(axis=0),
        season_level_draws=recent.multiplier(draws).mean(axis=1),
        roi=table, current=spend.iloc[-CURRENT_DAYS:].mean(),
        r2=float(1 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)),
        lift=_implied_lift(lift_table, lift, x, design, boot))


def _implied_lift(table: pd.DataFrame, lift: mmm_fit.Lift | None, x: np.ndarray,
                  design: rm.MixDesign, boot: list[rm.MixParams]) -> pd.DataFrame:
    """Each test beside the lift the fitted curves imply for its window (over the draws)."""
    if lift is None:
        return table.assign(modelled=[], modelled_lo=[], modelled_hi=[])
    implied = np.array([mmm_fit.lift_design(x, design, b, lift) @ b.beta for b in boot])
    lo, hi = _interval(implied)
    return table.assign(modelled=implied.mean(axis=0), modelled_lo=lo, modelled_hi=hi)


def _vector(curves: Curves, spend: Mapping[str, float] | None) -> np.ndarray:
    """Spend per channel in curve order; channels not given keep their current spend."""
    given = dict(spend or {})
    unknown = set(given) - set(curves.channels)
    if unknown:
        raise KeyError(f"no curve for {sorted(unknown)}; fitted: {list(curves.channels)}")
    return np.array([given.get(c, curves.current[c]) for c in curves.channels], float)


def predict_outcome(curves: Curves, spend_by_channel: Mapping[str, float]
                    ) -> tuple[float, float, float]:
    """Steady-state daily outcome (mean, lo, hi) at a daily spend per channel.

    Baseline at its recent level plus every channel's response; channels not in the mapping
    stay at current spend. Mean and interval are over the bootstrap fits (the mean is the
    one ``plan`` maximises).
    """
    spend = _vector(curves, spend_by_channel)
    outcomes = curves.baseline_level_draws + curves.response(spend, draws=True).sum(axis=-1)
    lo, hi = _interval(outcomes)
    return float(outcomes.mean()), float(lo), float(hi)


def _bounds(curves: Curves, current: np.ndarray, max_change: float | None,
            bounds: Mapping[str, tuple[float | None, float | None]] | None
            ) -> tuple[np.ndarray, np.ndarray]:
    lower, upper = np.zeros(len(current)), np.full(len(current), np.inf)
    if max_change is not None:
        lower, upper = current * (1 - max_change), current * (1 + max_change)
    for i, channel in enumerate(curves.channels):
        low, high = (bounds or {}).get(channel, (None, None))
        lower[i] = max(lower[i], low or 0.0)
        upper[i] = min(upper[i], np.inf if high is None else high)
    return lower, upper


def _reason(saturation: float, mroi_now: float, mroi_new: float, change: float,
            at_bound: bool, unit: str) -> str:
    direction = "raise" if change > 0.005 else "cut" if change < -0.005 else "keep"
    limit = ", held by its limit" if at_bound and direction != "keep" else ""
    return (f"{direction}{limit}: {saturation:.0%} of its ceiling reached, marginal return "
            f"{mroi_now:.2f} {unit} per unit of spend now, {mroi_new:.2f} after")


def plan(curves: Curves, total_budget: float, max_change: float | None = 0.3,
         current: Mapping[str, float] | None = None, objective: Objective = "revenue",
         bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
         target_cpa: float | None = None) -> Plan:
    """Recommend a daily split of ``total_budget`` and say what it should bring.

    ``objective`` 'revenue' or 'conversions' maximises that outcome (the curves must have been
    fitted on it) spending the whole budget; 'target_cpa' maximises conversions spending at
    most the budget, with total spend / incremental conversions ≤ ``target_cpa``. Outcomes
    are the expected ones, averaged over the bootstrap fits (``Curves.expected_response``).
    ``bounds`` maps channel → (min, max) daily spend; ``max_change`` bounds each channel's
    relative change from ``current`` (default: mean of the last 28 days).
    """
    wanted = "conversions" if objective == "target_cpa" else objective
    if curves.target != wanted:
        raise ValueError(f"objective {objective!r} needs curves fitted on {wanted!r}, "
                         f"these are on {curves.target!r}")
    if objective == "target_cpa" and target_cpa is None:
        raise ValueError("objective 'target_cpa' needs target_cpa")
    now = _vector(curves, current)
    lower, upper = _bounds(curves, now, max_change, bounds)
    split = allocate(curves.expected_response, lower, upper, total_budget, start=now,
                     gradient=curves.expected_marginal, spend_all=objective != "target_cpa",
                     max_cost_per_unit=target_cpa)
    expected = predict_outcome(curves, dict(zip(curves.channels, split)))
    gain_draws = (curves.response(split, draws=True).sum(axis=-1)
                  - curves.response(now, draws=True).sum(axis=-1))
    gain_lo, gain_hi = _interval(gain_draws)
    gain = float(gain_draws.mean())
    saturation = rm.hill(split, curves.point.k, curves.point.n)
    mroi_now, mroi_new = curves.expected_marginal(now), curves.expected_marginal(split)
    change = np.divide(split - now, now, out=np.zeros_like(now), where=now > 0)
    at_bound = np.isclose(split, lower, rtol=1e-4) | np.isclose(split, upper, rtol=1e-4)
    reasons = {c: _reason(saturation[i], mroi_now[i], mroi_new[i], change[i], at_bound[i],
                          curves.target)
               for i, c in enumerate(curves.channels)}
    table = pd.DataFrame({
        "current": now, "recommended": split, "change": change,
        "saturation_now": rm.hill(now, curves.point.k, curves.point.n),
        "saturation_new": saturation, "mroi_now": mroi_now, "mroi_new": mroi_new,
        "reason": list(reasons.values())}, index=pd.Index(curves.channels, name="channel"))
    return Plan(objective=objective, split=dict(zip(curves.channels, split.tolist())),
                current=dict(zip(curves.channels, now.tolist())), expected=expected,
                uplift=(gain, float(gain_lo), float(gain_hi)), reasons=reasons, table=table)


def recommend(curves: Curves, total_budget: float, max_change: float | None = 0.3,
              current: Mapping[str, float] | None = None) -> dict[str, float]:
    """Recommended daily spend per channel for ``total_budget``, maximising the outcome the
    curves were fitted on; see ``plan`` for the expected gain and the reasons."""
    return plan(curves, total_budget, max_change=max_change, current=current,
                objective=curves.target).split
