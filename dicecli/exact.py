"""Exact, order-independent aggregation of float values: the same bits on every machine.

A float reduction (numpy's SIMD pairwise sums, BLAS matrix products, pandas' reductions) rounds
at every step in an order that depends on the CPU's features, the library versions and the
order of the values, so a mean on a rounding boundary prints differently from machine to
machine. Here every sum is carried out exactly, in integers, and rounded once:

- a float is an integer mantissa times a power of two, so a set of floats is a set of integers
  times one common power of two (``scaled``), whose sum Python's integers hold exactly;
- a mean is that exact sum divided by the count, rounded once (Python's ``int / int`` is
  correctly rounded); a variance likewise; a standard deviation the square root of the rounded
  variance (IEEE's square root is correctly rounded too);
- a quantile (numpy's default, R's type 7) is the exact interpolation between two order
  statistics, rounded once;
- weighted sums for many resamples at once (bootstrap means, rank aggregates) split each value
  into 30-bit limbs, so that an int64 matrix product sums them exactly in any order
  (``weighted_sums``).

Only +, -, *, / and sqrt of IEEE floats, and integer arithmetic, touch the values: the result
depends on neither the hardware, nor the order of the values, nor the library versions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

import numpy as np

#: What the JSON report's settings say of the summation.
SUMMATION = "exact (integer sums of the floats' mantissas, each result rounded once)"

_LIMB = 30  # bits per limb: a sum of up to 2**33 weighted limbs fits in an int64


def scaled(values: np.ndarray) -> tuple[list[int], int]:
    """Finite ``values`` as integers ``a`` and one ``shift``: value[i] == a[i] * 2**shift."""
    flat = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        return [], 0
    mantissa, exponent = np.frexp(flat)
    ints = (mantissa * 2.0**53).astype(np.int64).tolist()  # exact: |mantissa| < 1
    exps = (exponent.astype(np.int64) - 53).tolist()
    shift = min(e for a, e in zip(ints, exps, strict=True) if a) if any(ints) else 0
    return [a << (e - shift) if a else 0 for a, e in zip(ints, exps, strict=True)], shift


def ratio(numerator: int, denominator: int, shift: int) -> float:
    """numerator * 2**shift / denominator, rounded once."""
    if shift >= 0:
        return (numerator << shift) / denominator
    return numerator / (denominator << -shift)


def mean(values: Iterable[float] | np.ndarray) -> float:
    """The exactly rounded mean of the values (NaN without any); +-inf where one is infinite."""
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[~np.isnan(array)]
    if array.size == 0:
        return math.nan
    if not np.isfinite(array).all():
        return math.fsum(array.tolist())  # inf, -inf, or nan for both: as a float sum says
    ints, shift = scaled(array)
    return ratio(sum(ints), array.size, shift)


def fsum(values: Iterable[float] | np.ndarray) -> float:
    """The exactly rounded sum (``math.fsum``) of the values that are not NaN."""
    array = np.asarray(values, dtype=np.float64).ravel()
    return math.fsum(array[~np.isnan(array)].tolist())


def std(values: Iterable[float] | np.ndarray, ddof: int = 1) -> float:
    """The square root of the exactly rounded variance (``ddof`` as numpy's); NaN without
    more than ``ddof`` values."""
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[~np.isnan(array)]
    n = array.size
    if n <= ddof:
        return math.nan
    if not np.isfinite(array).all():
        return math.nan
    ints, shift = scaled(array)
    total = sum(ints)
    squares = sum(a * a for a in ints)
    # sum((x - mean)^2) = (n * sum(x^2) - sum(x)^2) / n, all in units of 2**(2 shift)
    return math.sqrt(ratio(n * squares - total * total, n * (n - ddof), 2 * shift))


def quantiles(values: Iterable[float] | np.ndarray, qs: Sequence[float]) -> list[float]:
    """The ``qs`` quantiles (numpy's default ``linear``, R's type 7) of the values that are not
    NaN, each interpolated exactly and rounded once; NaN without values."""
    array = np.asarray(values, dtype=np.float64).ravel()
    ordered = np.sort(array[~np.isnan(array)])
    if ordered.size == 0:
        return [math.nan] * len(qs)
    return [_interpolate(ordered.tolist(), q) for q in qs]


def _position(q: float, n: int) -> tuple[int, int, Fraction]:
    """Type 7: the q-quantile of n sorted values lies between these two (0-based), this far."""
    position = Fraction(q) * (n - 1)
    low = math.floor(position)
    return low, min(low + 1, n - 1), position - low


def _interpolate(ordered: Sequence[float], q: float) -> float:
    low, high, part = _position(q, len(ordered))
    a, b = ordered[low], ordered[high]
    if a == b or not part:
        return float(a)
    if not (math.isfinite(a) and math.isfinite(b)):
        return float(a + (b - a) * float(part))
    return float(Fraction(a) + part * (Fraction(b) - Fraction(a)))


def median(values: Iterable[float] | np.ndarray) -> float:
    """The median of the values that are not NaN (exact midpoint, rounded once)."""
    return quantiles(values, [0.5])[0]


def weighted_sums(weights: np.ndarray, values: np.ndarray) -> tuple[list[int], int]:
    """Each row's exact sum of integer ``weights`` (rows x n) times finite ``values`` (n): the
    sums are ``numerators[r] * 2**shift``. The values are cut into 30-bit limbs so that one
    int64 matrix product adds them exactly, whatever its order."""
    weights = np.asarray(weights)
    if weights.dtype.kind == "f":
        if not np.array_equal(weights, np.round(weights)):
            raise ValueError("weighted_sums takes integer weights")
        weights = weights.astype(np.int64)
    ints, shift = scaled(values)
    if not ints or not any(ints):
        return [0] * weights.shape[0], 0
    if int(np.abs(weights).sum(axis=1).max(initial=0)) >= 2**32:
        raise ValueError("weighted_sums: weights too large for exact int64 limb sums")
    width = max(abs(a).bit_length() for a in ints)
    count = width // _LIMB + 1
    mask = (1 << _LIMB) - 1
    limbs = np.array(
        [
            [(abs(a) >> (_LIMB * k) & mask) * (1 if a >= 0 else -1) for k in range(count)]
            for a in ints
        ],
        dtype=np.int64,
    ).reshape(len(ints), count)
    partial = (weights.astype(np.int64) @ limbs).tolist()  # integer products: exact
    return [sum(p << (_LIMB * k) for k, p in enumerate(row)) for row in partial], shift


def bootstrap_interval(
    values: np.ndarray, resamples: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """The percentile-bootstrap interval of the mean: the (1-level)/2 and (1+level)/2 quantiles
    (type 7) of the exact means of ``resamples`` resamples with replacement of the finite
    ``values``, drawn by numpy's PCG64 generator seeded with ``seed``. The values are sorted
    first, so the resamples do not depend on their order; each bound is rounded once."""
    ordered = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = ordered.size
    drawn = np.random.default_rng(seed).integers(0, n, (resamples, n))
    counts = np.bincount(
        (drawn + n * np.arange(resamples)[:, None]).ravel(), minlength=resamples * n
    ).reshape(resamples, n)
    sums, shift = weighted_sums(counts, ordered)
    sums.sort()  # one denominator (n * 2**-shift) for all: the numerators order the means
    low, high = ((1 - level) / 2, (1 + level) / 2)
    return _quantile_of_sorted(sums, low, n, shift), _quantile_of_sorted(sums, high, n, shift)


def _quantile_of_sorted(numerators: Sequence[int], q: float, n: int, shift: int) -> float:
    low, high, part = _position(q, len(numerators))
    a, b = numerators[low], numerators[high]
    exact = a + part * (b - a)  # a Fraction in units of 2**shift / n
    return ratio(exact.numerator, exact.denominator * n, shift)


def order_codes(keys: Sequence[Sequence[Fraction | int | None]]) -> np.ndarray:
    """Each row's keys as dense integer codes (floats; NaN for None) that order and tie exactly
    as the exact keys do: ranking the codes ranks the exact values."""
    out = np.full((len(keys), len(keys[0]) if keys else 0), np.nan)
    for r, row in enumerate(keys):
        distinct = sorted({k for k in row if k is not None})
        code = {k: i for i, k in enumerate(distinct)}
        for s, k in enumerate(row):
            if k is not None:
                out[r, s] = code[k]
    return out


__all__ = [
    "SUMMATION",
    "bootstrap_interval",
    "fsum",
    "mean",
    "median",
    "order_codes",
    "quantiles",
    "ratio",
    "scaled",
    "std",
    "weighted_sums",
]
