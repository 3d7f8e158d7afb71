"""Fitting the response model of ``modeling.response`` and drawing its uncertainty.

Two ways to fit it:

* jointly (``fit_mix`` without claims) — everything against the outcome alone. Then a
  curve's level trades off against the baseline (a near-linear stretch of curve looks like
  intercept + slope), so ROI leans on the priors.
* two-stage (``fit_mix`` given claims) — each platform's own daily claims r_c,t = A_c · f_c,t
  give the curve's *shape*: a platform claims nothing on a day without delivery, which pins
  down where a curve starts, and claims are far less noisy than the outcome. The outcome then
  gives each curve's true *size* beta_c; A_c / beta_c is the platform's over-attribution. The
  assumption is that a platform over-claims by a constant factor, not by a different curve.

Everything runs in normalised units — spend divided by each channel's mean spend, outcome by
its mean — so one set of bounds and priors fits any currency. Fits are MAP estimates by
``scipy.optimize.least_squares`` (analytic Jacobians) on standardised residuals, with
Gaussian priors as extra rows. Priors follow Meridian's defaults in spirit: half-saturation
near the channel's typical spend (log k ~ N(0, 1)), Hill slope near 1 (log n ~ N(0, 0.4)),
decay weakly pulled to 0.3, season coefficients to 0.

Lift tests (``Lift``) calibrate the sizes: a geo holdout measures what a channel's spend
brought during a test window, which is beta_c times the window's sum of (shape at actual spend
− shape with the window's spend zeroed), so each result is one more Gaussian row of the
stage-2 fit. The outcome alone pins a small channel's size to ±15–30 %; one test at ±10 %
does better than a year of outcome data for it.

Uncertainty (``bootstrap_mix``): refits on moving-block resampled residuals (blocks keep the
autocorrelation adstock leaves in residuals), each with the priors' centres drawn from the
priors themselves (``PriorShift``), warm-started at the fit. The draws stand in for a
posterior: ``modeling.budget`` reports their means and quantiles and plans on their mean.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares
from threadpoolctl import threadpool_limits

from modeling.response import (MixDesign, MixParams, adstock_decay_derivative, baseline,
                               contributions, geometric_adstock, hill, hill_slope)

DECAY_BOUNDS = (0.0, 0.95)
LOG_K_BOUNDS = (np.log(0.05), np.log(20.0))
LOG_N_BOUNDS = (np.log(0.5), np.log(4.0))
#: Prior (mean, sd) of decay, log k and log n, in normalised units, and of a season coefficient.
PRIORS = ((0.3, 0.3), (0.0, 1.0), (0.0, 0.4))
SEASON_PRIOR_SD = 0.2
BLOCK_DAYS = 14
#: least_squares' ftol/xtol/gtol. The default 1e-8 took 313 evaluations on the 7-channel demo
#: against 49 at 1e-6, for a 5e-5 relative difference in the objective.
TOLERANCE = 1e-6


def _one_thread() -> threadpool_limits:
    """BLAS limited to one thread for a whole fit or bootstrap.

    The matrices are small (hundreds of rows × tens of columns): multi-threaded BLAS only
    adds overhead, 400× slower per SVD measured on 2 busy cores. The limit is set once per
    call, not per solve: setting it scans the process's loaded libraries, which took a third
    of a 40-draw bootstrap when done for each of its ~330 solves.
    """
    return threadpool_limits(limits=1, user_api="blas")


def _solve(residuals, jacobian, start: np.ndarray, bounds) -> np.ndarray:
    return least_squares(residuals, start, jac=jacobian, bounds=bounds, method="trf",
                         x_scale="jac", ftol=TOLERANCE, xtol=TOLERANCE, gtol=TOLERANCE).x


class _Curves:
    """Curves (and optionally a baseline) fitted to one target series by penalised least
    squares. Parameter vector: baseline coefficients (when ``with_baseline``), then per
    channel (beta, decay, log k, log n, season coefficients). ``prior_shift`` (channels ×
    shape terms, in prior sds) moves the shape priors' centres, see ``PriorShift``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, design: MixDesign, with_baseline: bool,
                 prior_shift: np.ndarray | None = None):
        self.x, self.y, self.design = x, y, design
        self.n_base = design.base.shape[1] if with_baseline else 0
        self.n_season = design.season.shape[1]
        self.width = 4 + self.n_season
        self.n_channels = x.shape[1]
        self.sigma = 1.0
        prior = [*PRIORS, *[(0.0, SEASON_PRIOR_SD)] * self.n_season]
        self.prior_sd = np.tile([s for _, s in prior], self.n_channels)
        shift = 0.0 if prior_shift is None else np.ravel(prior_shift)
        self.prior_mean = np.tile([m for m, _ in prior], self.n_channels) + self.prior_sd * shift

    def vector(self, params: MixParams) -> np.ndarray:
        per_channel = np.column_stack([params.beta, params.decay, np.log(params.k),
                                       np.log(params.n), params.season])
        return np.concatenate([params.base[:self.n_base], per_channel.ravel()])

    def params(self, theta: np.ndarray, template: MixParams) -> MixParams:
        per = theta[self.n_base:].reshape(self.n_channels, self.width)
        base = theta[:self.n_base] if self.n_base else template.base
        return replace(template, beta=per[:, 0], decay=per[:, 1], k=np.exp(per[:, 2]),
                       n=np.exp(per[:, 3]), season=per[:, 4:], base=base)

    def _fitted(self, params: MixParams) -> np.ndarray:
        media = contributions(self.x, self.design, params).sum(axis=1)
        return media + baseline(self.design, params) if self.n_base else media

    def residuals(self, theta: np.ndarray, template: MixParams) -> np.ndarray:
        params = self.params(theta, template)
        shape = theta[self.n_base:].reshape(self.n_channels, self.width)[:, 1:].ravel()
        return np.concatenate([(self._fitted(params) - self.y) / self.sigma,
                               (shape - self.prior_mean) / self.prior_sd])

    def jacobian(self, theta: np.ndarray, template: MixParams) -> np.ndarray:
        params = self.params(theta, template)
        days = len(self.y)
        jac = np.zeros((days + len(self.prior_mean), theta.size))
        if self.n_base:
            jac[:days, :self.n_base] = (baseline(self.design, params)[:, None]
                                        * self.design.base)
        multiplier = self.design.multiplier(params)
        a = geometric_adstock(self.x, params.decay)
        for c in range(self.n_channels):
            k, n, beta, m = params.k[c], params.n[c], params.beta[c], multiplier[:, c]
            h = hill(a[:, c], k, n)
            spread = h * (1 - h)
            log_ratio = np.log(np.divide(a[:, c], k, out=np.ones(days), where=a[:, c] > 0))
            d_decay = beta * hill_slope(a[:, c], k, n) * adstock_decay_derivative(
                self.x[:, c], a[:, c], params.decay[c])
            col = self.n_base + self.width * c
            jac[:days, col:col + self.width] = m[:, None] * np.column_stack(
                [h, d_decay, -beta * n * spread, beta * n * spread * log_ratio,
                 (beta * h)[:, None] * self.design.season])
        jac[:days] /= self.sigma
        prior_cols = (self.n_base + self.width * np.arange(self.n_channels)[:, None]
                      + np.arange(1, self.width)[None, :]).ravel()
        jac[days + np.arange(len(prior_cols)), prior_cols] = 1 / self.prior_sd
        return jac

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        season = [np.inf] * self.n_season
        per_lo = [0.0, DECAY_BOUNDS[0], LOG_K_BOUNDS[0], LOG_N_BOUNDS[0], *np.negative(season)]
        per_hi = [np.inf, DECAY_BOUNDS[1], LOG_K_BOUNDS[1], LOG_N_BOUNDS[1], *season]
        base = np.full(self.n_base, np.inf)
        return (np.concatenate([-base, np.tile(per_lo, self.n_channels)]),
                np.concatenate([base, np.tile(per_hi, self.n_channels)]))

    def solve(self, start: MixParams) -> MixParams:
        theta = _solve(lambda t: self.residuals(t, start), lambda t: self.jacobian(t, start),
                       self.vector(start), self.bounds())
        return self.params(theta, start)

    def noise(self, params: MixParams) -> float:
        return max(float(np.std(self._fitted(params) - self.y)), 1e-9)


@dataclass(frozen=True)
class Noise:
    """Residual sds that weigh the rows: the outcome's and, two-stage, each platform's."""

    outcome: float
    reported: np.ndarray | None


@dataclass(frozen=True)
class Lift:
    """Lift-test results in normalised outcome units: test i measured ``value[i]`` with
    standard error ``se[i]`` for channel number ``channel[i]`` over the days ``mask[i]``."""

    channel: np.ndarray
    mask: np.ndarray
    value: np.ndarray
    se: np.ndarray

    def drawn(self, rng: np.random.Generator) -> Lift:
        """The results re-measured: each moved by its standard error times a normal draw."""
        return replace(self, value=self.value + self.se * rng.standard_normal(len(self.se)))


def lift_design(x: np.ndarray, design: MixDesign, params: MixParams, lift: Lift) -> np.ndarray:
    """Tests × channels: what each test measures per unit of its channel's beta — the
    window's sum of the shape at actual spend minus the shape with the window's spend zeroed
    (the carry-over from before the window stays, as in the held-out regions)."""
    out = np.zeros((len(lift.value), x.shape[1]))
    unit = replace(params, beta=np.ones_like(params.beta))
    for i, (c, mask) in enumerate(zip(lift.channel, lift.mask)):
        one = _channel(unit, c)
        held_out = np.where(mask, 0.0, x[:, c])[:, None]
        gap = contributions(x[:, [c]], design, one) - contributions(held_out, design, one)
        out[i, c] = gap[mask, 0].sum()
    return out


def _channel(params: MixParams, c: int) -> MixParams:
    pick = slice(c, c + 1)
    return replace(params, decay=params.decay[pick], k=params.k[pick], n=params.n[pick],
                   beta=params.beta[pick], season=params.season[pick],
                   attribution=params.attribution[pick])


def _start(x: np.ndarray, y: np.ndarray, design: MixDesign) -> MixParams:
    """A first guess from a linear fit (baseline + spend).

    Hill(1; k=1, n=1) = ½, so a linear slope b at mean spend maps to beta = 2b; the log
    baseline starts as a log-linear fit to what the linear media terms leave over.
    """
    n_base = design.base.shape[1]
    coef, *_ = np.linalg.lstsq(np.column_stack([design.base, x]), y, rcond=None)
    slope = np.clip(coef[n_base:], 0.0, None)
    rest = np.maximum(y - x @ slope, 0.1 * np.mean(y))
    base, *_ = np.linalg.lstsq(design.base, np.log(rest), rcond=None)
    ones = np.ones(x.shape[1])
    return MixParams(decay=PRIORS[0][0] * ones, k=ones, n=ones, beta=np.maximum(2 * slope, 0.01),
                     base=base, season=np.zeros((x.shape[1], design.season.shape[1])),
                     attribution=ones)


@dataclass(frozen=True)
class PriorShift:
    """Prior centres moved by this many prior sds: ``shape`` per channel and shape parameter
    (decay, log k, log n, season terms), ``attribution`` per channel (log over-attribution).

    A bootstrap refit with resampled residuals alone treats the priors as known facts: a
    channel the outcome cannot resolve keeps its prior-driven size in every refit, and its
    interval collapses to a point. Refitting with the priors' centres drawn from the priors
    too (randomise-then-optimise: for a linear model with Gaussian noise such refits are
    exact posterior draws) gives such a channel the prior's width and leaves well-measured
    channels alone. On the demo simulator's 8 seeds (bench/bench_budget.py) the 95 % ROI
    intervals held the true ROI for 44 of 56 channels without the prior draws, 53 with.
    """

    shape: np.ndarray
    attribution: np.ndarray

    @staticmethod
    def draw(rng: np.random.Generator, channels: int, shape_terms: int) -> PriorShift:
        return PriorShift(rng.standard_normal((channels, shape_terms)),
                          rng.standard_normal(channels))


def _fit_joint(x: np.ndarray, y: np.ndarray, design: MixDesign, start: MixParams,
               sigma: float | None, shift: PriorShift | None = None) -> tuple[MixParams, float]:
    """Curves and baseline against the outcome; ``sigma`` None = estimate it (two passes)."""
    problem = _Curves(x, y, design, with_baseline=True,
                      prior_shift=None if shift is None else shift.shape)
    if sigma is not None:
        problem.sigma = sigma
        return problem.solve(start), sigma
    params = start
    for _ in range(2):
        problem.sigma = problem.noise(params)
        params = problem.solve(params)
    return params, problem.sigma


def _fit_shapes(x: np.ndarray, reported: np.ndarray, design: MixDesign, start: MixParams,
                sigmas: np.ndarray | None, shift: PriorShift | None = None
                ) -> tuple[MixParams, np.ndarray]:
    """Stage 1: each channel's curve fitted to its platform's claims alone (beta = claims'
    size). Channels are separate problems: a few small fits beat one big one."""
    fits, noise = [], []
    for c in range(x.shape[1]):
        problem = _Curves(x[:, [c]], reported[:, c], design, with_baseline=False,
                          prior_shift=None if shift is None else shift.shape[c])
        params = _channel(start, c)
        passes = [sigmas[c]] if sigmas is not None else [None, None]
        for sigma in passes:
            problem.sigma = problem.noise(params) if sigma is None else sigma
            params = problem.solve(params)
        fits.append(params)
        noise.append(problem.sigma)
    stacked = replace(start, **{f: np.concatenate([getattr(p, f) for p in fits])
                                for f in ("decay", "k", "n", "beta", "season")})
    return stacked, np.array(noise)


def _fit_sizes(shapes: np.ndarray, claims: np.ndarray, y: np.ndarray, design: MixDesign,
               start: MixParams, sigma: float | None,
               attribution_prior: tuple[float, float] | None,
               shift: PriorShift | None = None,
               lift: tuple[np.ndarray, Lift] | None = None
               ) -> tuple[np.ndarray, np.ndarray, float]:
    """Stage 2: y = exp(B·b) + shapes @ beta, beta > 0 — the curves' true sizes.

    ``claims`` are the claimed sizes A from stage 1; ``attribution_prior`` (median, log-sd)
    puts a log-normal prior on A / beta. ``lift`` is (``lift_design``, results): one row
    (G·beta − lift) / se per test. ``sigma`` None = estimate it (two passes).
    """
    n_base = design.base.shape[1]
    prior_median, prior_sd = attribution_prior or (1.0, np.inf)
    log_median = np.log(prior_median) + (0.0 if shift is None or not np.isfinite(prior_sd)
                                         else prior_sd * shift.attribution)
    log_claims = np.log(np.maximum(claims, 1e-12))
    tests = np.zeros((0, len(claims))) if lift is None else lift[0] / lift[1].se[:, None]
    measured = np.zeros(0) if lift is None else lift[1].value / lift[1].se

    def residuals(theta: np.ndarray, scale: float) -> np.ndarray:
        fit = np.exp(design.base @ theta[:n_base]) + shapes @ theta[n_base:] - y
        gap = (log_claims - np.log(theta[n_base:]) - log_median) / prior_sd
        return np.concatenate([fit / scale, gap, tests @ theta[n_base:] - measured])

    def jacobian(theta: np.ndarray, scale: float) -> np.ndarray:
        top = np.column_stack([np.exp(design.base @ theta[:n_base])[:, None] * design.base,
                               shapes]) / scale
        prior = np.zeros((len(claims), theta.size))
        prior[:, n_base:] = np.diag(-1 / (theta[n_base:] * prior_sd))
        calibration = np.zeros((len(measured), theta.size))
        calibration[:, n_base:] = tests
        return np.vstack([top, prior, calibration])

    bounds = (np.concatenate([np.full(n_base, -np.inf), np.full(len(claims), 1e-9)]), np.inf)
    theta = np.concatenate([start.base, np.maximum(start.beta, 1e-6)])
    for scale in ([sigma] if sigma is not None else [None, None]):
        if scale is None:
            scale = max(float(np.std(residuals(theta, 1.0)[:len(y)])), 1e-9)
        theta = _solve(lambda t: residuals(t, scale), lambda t: jacobian(t, scale), theta,
                       bounds)
    return theta[:n_base], theta[n_base:], scale


def _two_stage(x: np.ndarray, y: np.ndarray, reported: np.ndarray, design: MixDesign,
               start: MixParams, noise: Noise | None,
               attribution_prior: tuple[float, float] | None,
               shift: PriorShift | None = None, lift: Lift | None = None
               ) -> tuple[MixParams, Noise]:
    claimed, sigmas = _fit_shapes(x, reported, design, start,
                                  None if noise is None else noise.reported, shift)
    shapes = contributions(x, design, replace(claimed, beta=np.ones_like(claimed.beta)))
    calibration = None if lift is None else (lift_design(x, design, claimed, lift), lift)
    base, beta, sigma = _fit_sizes(shapes, claimed.beta, y, design,
                                   replace(start, beta=claimed.beta / start.attribution),
                                   None if noise is None else noise.outcome, attribution_prior,
                                   shift, calibration)
    return (replace(claimed, base=base, beta=beta, attribution=claimed.beta / beta),
            Noise(sigma, sigmas))


def _claims_only(x: np.ndarray, reported: np.ndarray, design: MixDesign, start: MixParams,
                 noise: Noise | None, shift: PriorShift | None = None
                 ) -> tuple[MixParams, Noise]:
    """Curves of the claims themselves: attribution 1 and no baseline (exp(-inf) = 0)."""
    claimed, sigmas = _fit_shapes(x, reported, design, start,
                                  None if noise is None else noise.reported, shift)
    base = np.zeros(design.base.shape[1])
    base[0] = -np.inf
    return replace(claimed, base=base), Noise(0.0, sigmas)


def fit_mix(x: np.ndarray, y: np.ndarray | None, design: MixDesign,
            reported: np.ndarray | None = None,
            attribution_prior: tuple[float, float] | None = None,
            lift: Lift | None = None) -> tuple[MixParams, Noise]:
    """MAP fit on normalised spend ``x`` (days × channels) and outcome ``y``: jointly, or in
    two stages when the platforms' claims ``reported`` (days × channels, y's units) are given,
    optionally with a log-normal prior (median, log-sd) on each platform's over-attribution
    and lift-test results (two-stage only). With claims but no outcome (``y`` None) the
    curves describe the claims themselves.

    Returns the fit and the noise levels, which the bootstrap keeps fixed.
    """
    if lift is not None and (reported is None or y is None):
        raise ValueError("lift tests calibrate the two-stage fit: it needs claims and outcome")
    with _one_thread():
        if reported is None:
            params, sigma = _fit_joint(x, y, design, _start(x, y, design), None)
            return params, Noise(sigma, None)
        start = _start(x, reported.sum(axis=1) if y is None else y, design)
        median = attribution_prior[0] if attribution_prior else 1.0
        claims_start = replace(start, beta=np.maximum(reported.mean(axis=0) * 2, 1e-6),
                               attribution=np.full(x.shape[1], median))
        if y is None:
            return _claims_only(x, reported, design, claims_start, None)
        return _two_stage(x, y, reported, design, claims_start, None, attribution_prior,
                          lift=lift)


def bootstrap_mix(x: np.ndarray, y: np.ndarray | None, design: MixDesign, best: MixParams,
                  noise: Noise, n_boot: int, seed: int, reported: np.ndarray | None = None,
                  attribution_prior: tuple[float, float] | None = None,
                  lift: Lift | None = None) -> list[MixParams]:
    """Refits of ``fit_mix`` on moving-block resampled residuals and, each, priors centred
    on a draw from themselves (see ``PriorShift``) and lift results re-measured within their
    standard errors, warm-started at ``best``.

    Outcome and claim residuals are resampled on the same days, which keeps their
    correlation. Same seed, same draws.
    """
    rng = np.random.default_rng(seed)
    days = x.shape[0]
    block = min(BLOCK_DAYS, days)
    n_blocks = -(-days // block)
    media = contributions(x, design, best)
    y_hat = None if y is None else baseline(design, best) + media.sum(axis=1)
    claimed = None if reported is None else media * best.attribution
    claims_start = replace(best, beta=best.beta * best.attribution)
    draws = []
    with _one_thread():
        for _ in range(n_boot):
            starts = rng.integers(0, days - block + 1, size=n_blocks)
            idx = (starts[:, None] + np.arange(block)[None, :]).ravel()[:days]
            shift = PriorShift.draw(rng, x.shape[1], 3 + design.season.shape[1])
            y_star = None if y is None else y_hat + (y - y_hat)[idx]
            r_star = None if reported is None else claimed + (reported - claimed)[idx]
            if reported is None:
                draws.append(_fit_joint(x, y_star, design, best, noise.outcome, shift)[0])
            elif y is None:
                draws.append(_claims_only(x, r_star, design, claims_start, noise, shift)[0])
            else:
                draws.append(_two_stage(x, y_star, r_star, design, claims_start, noise,
                                        attribution_prior, shift,
                                        None if lift is None else lift.drawn(rng))[0])
    return draws


