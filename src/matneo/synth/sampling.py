"""Vectorised sampling helpers: logistic calibration, grouped categorical draws, id strings.

Everything here works on whole NumPy arrays so the generator never loops over rows: a
national year is ~650,000 babies and ten years must generate in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function, written to avoid overflow warnings for large negative ``x``."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def calibrate_intercept(
    offset: np.ndarray,
    target_total: float,
    weights: np.ndarray | None = None,
    *,
    tol: float = 1e-8,
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
    if offset.size > 100_000:
        # Solve on a strided subsample first: the full-size Newton steps then start close.
        sub_w = w[::16]
        sub_target = target_total * float(sub_w.sum()) / total_w
        a = calibrate_intercept(offset[::16], sub_target, sub_w, tol=1e-6) if sub_target > 0 else None
    else:
        a = None
    if a is None:
        a = float(np.log(rate / (1.0 - rate)) - np.average(offset, weights=w))
    lo, hi = -80.0, 80.0
    for _ in range(max_iter):
        p = expit(a + offset)
        f = float(np.einsum("i,i->", w, p)) - target_total
        if abs(f) <= tol * target_total:
            break
        if f > 0:
            hi = a
        else:
            lo = a
        slope = float(np.einsum("i,i->", w, p * (1.0 - p)))
        step = a - f / slope if slope > 0 else (lo + hi) / 2
        a = step if lo < step < hi else (lo + hi) / 2
    return a


def categorical(u: np.ndarray, group: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Draw category indices where row ``i`` uses probability row ``probs[group[i]]``.

    ``u`` are uniforms in [0, 1); rows of ``probs`` are normalised here. Each group's
    cumulative row is shifted by the group number and the rows are concatenated, so the value
    ``group + u`` can only land in its own row. A guide table (the first candidate index for
    each small interval of values) replaces binary search: ``np.searchsorted`` on random keys
    is dominated by branch misprediction, and this runs several times faster.
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
    group = np.asarray(group, dtype=np.int64)
    v = group + u
    resolution = 4 * k  # guide buckets per unit: on average < 1 category boundary per bucket
    n_buckets = n_groups * resolution
    guide = np.searchsorted(flat, np.arange(n_buckets) / resolution, side="right")
    idx = guide[np.minimum((v * resolution).astype(np.int64), n_buckets - 1)]
    end = flat.size - 1
    np.minimum(idx, end, out=idx)
    pending = np.flatnonzero((flat[idx] <= v) & (idx < end))
    while pending.size:
        idx[pending] += 1
        pending = pending[(flat[idx[pending]] <= v[pending]) & (idx[pending] < end)]
    # Rounding of group + u can step one place past a row's end; fall back to the row's last
    # category that has any probability (rows may be zero-padded).
    last = (k - 1 - np.argmax((probs > 0)[:, ::-1], axis=1))[group]
    return np.minimum(idx - group * k, last).clip(0, None)


def poisson_by_inversion(u: np.ndarray, lam: np.ndarray, k_max: int) -> np.ndarray:
    """Poisson(``lam``) draws capped at ``k_max``, from one uniform per row by inverting the CDF.

    Unlike ``Generator.poisson`` this consumes exactly one uniform per row whatever ``lam``
    is, so rows whose rate changes (a struggling trust) do not shift everyone else's draws.
    """
    term = np.exp(-lam)
    cdf = term.copy()
    k = np.zeros(u.shape, dtype=np.int64)
    for i in range(1, k_max + 1):
        k += u >= cdf
        term = term * lam / i
        cdf = cdf + term
    return k


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser: a bijection on uint64, so distinct inputs stay distinct.

    Used to turn (year, delivery number) into pseudonymous mother ids that look random but
    can never collide.
    """
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))) & _MASK64


_HEX_PAIRS = np.array(
    [int.from_bytes(f"{b:02x}".encode("ascii"), "little") for b in range(256)], dtype="<u2"
)  # byte value -> its two hex digits as one little-endian uint16


def strings_from_bytes(data: np.ndarray) -> pa.StringArray:
    """An Arrow string array from an (n, width) uint8 matrix of ASCII: one fixed-width string per row."""
    n, width = data.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    offset_type = np.int32 if offsets[-1] < 2**31 else np.int64
    array_type = pa.string() if offset_type is np.int32 else pa.large_string()
    arr = pa.Array.from_buffers(
        array_type, n, [None, pa.py_buffer(offsets.astype(offset_type)), pa.py_buffer(np.ascontiguousarray(data))]
    )
    return arr.cast(pa.string()) if offset_type is np.int64 else arr


def ascii_digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) uint8 matrix."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values.astype(np.int64)[:, None] // powers) % 10 + 48).astype(np.uint8)


def hex_ids(prefix: str, values: np.ndarray) -> pa.StringArray:
    """``prefix`` + 16 lower-case hex digits for every uint64 in ``values``, as one Arrow array.

    Builds the fixed-width ASCII buffer with NumPy (one table lookup per byte) and hands it
    to Arrow without creating a Python string per row.
    """
    n = len(values)
    pairs = _HEX_PAIRS[values.astype(">u8").view(np.uint8).reshape(n, 8)].view(np.uint8).reshape(n, 16)
    pre = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    return strings_from_bytes(np.concatenate([np.broadcast_to(pre, (n, pre.size)), pairs], axis=1))


def joined_ids(codes: Sequence[str], code_index: np.ndarray, middle: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``codes[code_index] + middle + zero-padded number`` per row, e.g. ``RXX-2019-000123``.

    Built as byte matrices per distinct code length (usually one), so the record ids of a
    national year take milliseconds rather than a Python string per row.
    """
    n = len(code_index)
    width = max(width, len(str(int(numbers.max()))) if n else width)
    tail = np.concatenate(
        [
            np.broadcast_to(np.frombuffer(middle.encode("ascii"), dtype=np.uint8), (n, len(middle))),
            ascii_digits(numbers, width),
        ],
        axis=1,
    )
    encoded = [c.encode("utf-8") for c in codes]
    lengths = np.array([len(c) for c in encoded], dtype=np.int64)
    row_lengths = lengths[code_index]
    if n and np.all(row_lengths == row_lengths[0]):
        head = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        head_matrix = (
            head[starts[code_index][:, None] + np.arange(row_lengths[0])]
            if row_lengths[0]
            else np.empty((n, 0), np.uint8)
        )
        return strings_from_bytes(np.concatenate([head_matrix, tail], axis=1))
    heads = pa.array(encoded, type=pa.binary()).cast(pa.string()).take(pa.array(code_index))
    return pc.binary_join_element_wise(heads, strings_from_bytes(tail), "")
