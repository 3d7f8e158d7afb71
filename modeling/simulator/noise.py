"""Counter-based randomness: every random number is a pure function of (seed, stream, indices).

A sequential generator would make day 100 depend on how many numbers were drawn before it,
and therefore on the window length, the scale or the order of computation. Hashing the
coordinates instead (SplitMix64 finaliser) gives prefix stability for free: simulating more
days, or a partial day, never changes a number that was already drawn. It is also fully
vectorised — a (days × ads) matrix of noise is one broadcasted call.
"""
from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_53 = float(2**53)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser; uint64 array arithmetic wraps silently, which is what we want."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _hash(seed: int, stream: str, indices: tuple) -> np.ndarray:
    base = np.array([(seed & 0xFFFFFFFFFFFFFFFF) ^ (zlib.crc32(stream.encode()) << 32)], dtype=np.uint64)
    h = _mix(base + _GOLDEN)
    for idx in indices:
        h = _mix(h ^ (np.asarray(idx).astype(np.uint64) + _GOLDEN))
    return h


def uniform(seed: int, stream: str, *indices: np.ndarray | int) -> np.ndarray:
    """Uniform draws in the open interval (0, 1), shaped like the broadcast of `indices`."""
    h = _hash(seed, stream, indices)
    u = ((h >> np.uint64(11)).astype(np.float64) + 0.5) / _TWO_POW_53
    return u.reshape(np.broadcast_shapes(*(np.shape(i) for i in indices)))


def normal(seed: int, stream: str, *indices: np.ndarray | int) -> np.ndarray:
    """Standard normal draws (inverse CDF of `uniform`, so one hash per number)."""
    return ndtri(uniform(seed, stream, *indices))


def lognormal_factor(seed: int, stream: str, sigma: float, *indices: np.ndarray | int) -> np.ndarray:
    """Multiplicative noise with mean exactly 1, so it perturbs without biasing totals."""
    return np.exp(sigma * normal(seed, stream, *indices) - 0.5 * sigma * sigma)
