"""Split a daily budget across channels to maximise a separable response (SLSQP).

Works in normalised units: spend as a share of the total budget and response relative to the
response at the start point, so every variable, gradient and constraint is O(1). With raw
currency (spend in the thousands, gradients in the thousandths) SLSQP's first step is tiny
and it stops at its start point — the failure reported for PyMC-Marketing's optimiser.

Response curves with a Hill slope above 1 are S-shaped, so the problem is not concave. Two
deterministic starts are polished and the better one kept: the given start (usually today's
split) and a greedy split by average return per chunk (see ``_greedy``), which finds splits a
derivative-based method cannot reach from a channel's flat foot.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

Response = Callable[[np.ndarray], np.ndarray]
GREEDY_STEPS = 200


def separable_gradient(response: Response, spend: np.ndarray) -> np.ndarray:
    """d response_c / d spend_c by central differences, all channels in two calls.

    Valid because each channel's response depends on its own spend only.
    """
    step = 1e-6 * np.maximum(np.abs(spend), 1e-3 * max(float(np.sum(spend)), 1e-9))
    low = np.maximum(spend - step, 0.0)
    return (response(spend + step) - response(low)) / (spend + step - low)


def _greedy(response: Response, lower: np.ndarray, upper: np.ndarray,
            total: float) -> np.ndarray:
    """Hand out the budget in chunks, each time to the channel and chunk size with the best
    average return per unit — the return of a whole chunk, not the slope at its start, so a
    channel on the flat foot of an S-curve still wins when the climb past it pays."""
    spend = lower.astype(float).copy()
    step = (total - spend.sum()) / GREEDY_STEPS
    left = total - spend.sum()
    while step > 0 and left > step * 1e-6:
        sizes = np.minimum(step * np.arange(1, int(np.ceil(left / step)) + 1), left)[:, None]
        trial = np.minimum(spend + sizes, upper)
        added = trial - spend
        gain = response(trial) - response(spend)
        rate = np.where(added > 0, gain / np.where(added > 0, added, 1.0), -np.inf)
        size, channel = np.unravel_index(np.argmax(rate), rate.shape)
        if not np.isfinite(rate[size, channel]):
            break
        spend[channel] = trial[size, channel]
        left = total - spend.sum()
    return spend


def _project(start: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float,
             spend_all: bool) -> np.ndarray:
    """Clip a start into the box, then scale the free room so it spends the total."""
    spend = np.clip(start, lower, upper)
    if not spend_all and spend.sum() <= total:
        return spend
    for _ in range(50):
        gap = total - spend.sum()
        if abs(gap) <= 1e-12 * max(total, 1.0):
            break
        room = np.minimum(upper - spend, total) if gap > 0 else (spend - lower)
        if room.sum() <= 0:
            break
        spend = np.clip(spend + gap * room / room.sum(), lower, upper)
    return spend


def allocate(response: Response, lower: np.ndarray, upper: np.ndarray, total: float,
             start: np.ndarray, gradient: Response | None = None, spend_all: bool = True,
             max_cost_per_unit: float | None = None) -> np.ndarray:
    """Daily spend per channel maximising Σ response(spend) within bounds.

    ``response(spend) -> per-channel response`` (separable; channels on the last axis, any
    leading axes broadcast);
    ``gradient`` the per-channel derivative (central differences if None). With
    ``spend_all`` the split spends exactly ``total``, otherwise at most ``total``;
    ``max_cost_per_unit`` adds Σspend ≤ max_cost_per_unit · Σresponse (a target CPA when the
    response is conversions). Raises ValueError when the bounds cannot meet the total or no
    split satisfies the constraints.
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    if np.any(lower > upper) or lower.sum() > total * (1 + 1e-9):
        raise ValueError(f"minimums add up to {lower.sum():.2f}, above the budget {total:.2f}")
    if spend_all and upper.sum() < total * (1 - 1e-9):
        raise ValueError(f"maximums add up to {upper.sum():.2f}, below the budget {total:.2f}"
                         " — widen the per-channel limits or lower the budget")
    grad = gradient or (lambda s: separable_gradient(response, s))
    starts = [_project(np.asarray(start, float), lower, upper, total, spend_all),
              _greedy(response, lower, upper, total)]
    if not spend_all:
        starts.append(lower.copy())
    scale = max(float(response(starts[0]).sum()), float(response(starts[1]).sum()), 1e-12)

    def objective(u: np.ndarray) -> tuple[float, np.ndarray]:
        spend = u * total
        return -float(response(spend).sum()) / scale, -grad(spend) * total / scale

    constraints = [{"type": "eq" if spend_all else "ineq", "fun": lambda u: 1.0 - u.sum(),
                    "jac": lambda u: -np.ones_like(u)}]
    if max_cost_per_unit is not None:
        constraints.append({
            "type": "ineq",
            "fun": lambda u: max_cost_per_unit * response(u * total).sum() / total - u.sum(),
            "jac": lambda u: max_cost_per_unit * grad(u * total) - 1.0})
    box = list(zip(lower / total, upper / total))
    best, best_value = None, -np.inf
    for candidate in starts:
        result = minimize(objective, candidate / total, jac=True, method="SLSQP", bounds=box,
                          constraints=constraints, options={"maxiter": 200, "ftol": 1e-10})
        spend = np.clip(result.x * total, lower, upper)
        feasible = all(np.all(np.asarray(c["fun"](spend / total)) >= -1e-6)
                       if c["type"] == "ineq" else abs(c["fun"](spend / total)) <= 1e-6
                       for c in constraints)
        value = float(response(spend).sum())
        if feasible and value > best_value:
            best, best_value = spend, value
    if best is None:
        raise ValueError("no split within the limits meets the constraints (target CPA too low?)")
    return best
