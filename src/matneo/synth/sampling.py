"""Vectorised sampling helpers: logistic calibration, grouped categorical draws, id strings.

Everything here works on whole NumPy arrays so the generator never loops over rows: a
national year is ~650,000 babies and ten years must generate in seconds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function, written to avoid overflow warnings for large negative ``x``."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def calibrate_intercept(
    offset: np.ndarray,
    target_total: float,
    weights: np.ndarray | None = None,
    *,
    tol: float = 1e-9,
    max_iter: int = 60,
) -> float:
    """Solve ``sum(weights * expit(a + offset)) == target_total`` for the scalar intercept ``a``.

    This is how each year's national rate is pinned to the published figure: the risk model
    fixes the *relative* risks (odds ratios), and the intercept is the one free number chosen
    so that the expected number of events equals target rate × denominator. The left side is
    increasing in ``a``, so a Newton step safeguarded by a shrinking bracket always converges;
    each step is one pass over the arrays.
    """
    offset = np.asarray(offset, dtype=float)
    w = np.ones_like(offset) if weights is None else np.asarray(weights, dtype=float)
    total_w = float(w.sum())
    if offset.size == 0 or total_w <= 0.0:
        return 0.0
    if target_total <= 0.0:
        return -60.0
    if target_total >= total_w:
        return 60.0
    rate = target_total / total_w
    a = float(np.log(rate / (1.0 - rate)) - np.average(offset, weights=w))
    lo, hi = -80.0, 80.0
    for _ in range(max_iter):
        p = expit(a + offset)
        f = float(np.dot(w, p)) - target_total
        if abs(f) <= tol * max(target_total, 1.0):
            break
        if f > 0:
            hi = a
        else:
            lo = a
        slope = float(np.dot(w, p * (1.0 - p)))
        step = a - f / slope if slope > 0 else (lo + hi) / 2
        a = step if lo < step < hi else (lo + hi) / 2
    return a


def categorical(u: np.ndarray, group: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Draw category indices where row ``i`` uses probability row ``probs[group[i]]``.

    ``u`` are uniforms in [0, 1). Rows of ``probs`` are normalised here. Instead of an
    n × K comparison, each group's cumulative row is shifted by the group number and the
    concatenation is searched once: the value ``group + u`` can only land in its own row.
    """
    probs = np.asarray(probs, dtype=float)
    n_groups, k = probs.shape
    cum = np.cumsum(probs, axis=1)
    totals = cum[:, -1:]
    if np.any(totals <= 0):
        raise ValueError("every probability row needs a positive total")
    cum = cum / totals
    cum[:, -1] = 1.0
    flat = (cum + np.arange(n_groups, dtype=float)[:, None]).ravel()
    pos = np.searchsorted(flat, group.astype(float) + u, side="right")
    # Rounding of group + u can step one place past a row's end; fall back to its last
    # category that has any probability (rows may be zero-padded).
    last = (k - 1 - np.argmax((probs > 0)[:, ::-1], axis=1))[group]
    return np.minimum(pos - group.astype(np.int64) * k, last).clip(0, None)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser: a bijection on uint64, so distinct inputs stay distinct.

    Used to turn (year, delivery number) into pseudonymous mother ids that look random but
    can never collide.
    """
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))) & _MASK64


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(prefix: str, values: np.ndarray) -> pa.StringArray:
    """``prefix`` + 16 lower-case hex digits for every uint64 in ``values``, as one Arrow array.

    Builds the fixed-width UTF-8 buffer with NumPy byte arithmetic and hands it to Arrow
    without creating a Python string per row.
    """
    n = len(values)
    big_endian = values.astype(">u8").view(np.uint8).reshape(n, 8)
    digits = np.empty((n, 16), dtype=np.uint8)
    digits[:, 0::2] = _HEX[big_endian >> 4]
    digits[:, 1::2] = _HEX[big_endian & 0x0F]
    pre = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    width = len(pre) + 16
    data = np.empty((n, width), dtype=np.uint8)
    data[:, : len(pre)] = pre
    data[:, len(pre) :] = digits
    offsets = (np.arange(n + 1, dtype=np.int64) * width).astype(np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data.tobytes()))


def truncated_normal(rng: np.random.Generator, mean: float, sd: float, low: float, high: float, n: int) -> np.ndarray:
    """Normal draws restricted to [low, high] by redrawing out-of-range values a few times.

    A fixed number of full-length redraws keeps the random stream consumption independent of
    the data, so runs that differ elsewhere (for example a struggling trust) stay aligned.
    """
    x = rng.normal(mean, sd, n)
    for _ in range(6):
        redraw = rng.normal(mean, sd, n)
        bad = (x < low) | (x > high)
        x = np.where(bad, redraw, x)
    return np.clip(x, low, high)
