"""Confusion counting in one pass over the voxels, for every label at once.

The result is the joint histogram of (reference value, prediction value) pairs: the whole confusion
matrix, from which the counts of any label or union of labels follow exactly (``overlap.py``). The
arrays may be numpy or CuPy (``xp``); on the CPU the work is done in chunks so that temporaries stay
small and in cache; on a CUDA device one fused kernel counts (``cuda_counting.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dicecli.models import JointHistogram, SoftTally

#: Voxels per chunk on the CPU: 256 Ki keeps every temporary inside the L2 cache.
CHUNK = 1 << 18

#: Up to this many (reference, prediction) value pairs, dense chunks are counted by comparisons.
DENSE_BINS = 16

#: Voxels per chunk of the soft tally on a GPU (a float64 temporary of this size: 128 MiB).
GPU_CHUNK = 1 << 24

#: Chunk of the sparse joint histogram: small enough that all-background stretches are skipped
#: cheaply, large enough that numpy's per-call overhead stays small (measured: 16-32 Ki best).
SPARSE_CHUNK = 1 << 15


def flat_pair(ref: Any, pred: Any, xp: Any = np) -> tuple[Any, Any]:
    """Both arrays as 1-D views in the same voxel order, copying only when their layouts differ."""
    if ref.shape != pred.shape:
        raise ValueError(f"shapes differ: {ref.shape} vs {pred.shape}")
    for order, flag in (("C", "C_CONTIGUOUS"), ("F", "F_CONTIGUOUS")):
        if ref.flags[flag] and pred.flags[flag]:
            return ref.ravel(order=order), pred.ravel(order=order)
    return xp.ascontiguousarray(ref).ravel(), xp.ascontiguousarray(pred).ravel()


def joint_histogram(ref: Any, pred: Any, xp: Any = np, chunk: int = CHUNK) -> JointHistogram:
    """Count the voxels of every (reference, prediction) value pair of two integer label maps."""
    g, p = flat_pair(ref, pred, xp)
    n = int(g.size)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return JointHistogram(empty, empty, empty)
    if _is_cupy(xp):
        from dicecli.metrics.cuda_counting import joint_table

        fused = joint_table(g, p, xp)
        if fused is not None:
            return _sparse(fused)
    gmin, gmax, pmin, pmax = (_lowest(g, xp), int(xp.max(g)), _lowest(p, xp), int(xp.max(p)))
    if min(gmin, pmin) < 0 or (gmax + 1) * (pmax + 1) > 1 << 24:
        return _histogram_by_unique(g, p, xp)
    if gmax <= 1 and pmax <= 1:
        table = _binary(g, p, n, xp, chunk)
    else:
        table = _histogram_dense(g, p, gmax + 1, pmax + 1, xp, chunk)
    return _sparse(table)


def soft_tally(ref: Any, prob: Any, xp: Any = np, chunk: int = CHUNK) -> SoftTally:
    """Per reference value: voxel count and the sum of the probabilities (float64) there."""
    g, p = flat_pair(ref, prob, xp)
    if g.size == 0:
        return SoftTally(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    gmin, gmax = int(xp.min(g)), int(xp.max(g))
    if gmin < 0 or gmax >= 1 << 24:
        values, g = xp.unique(g, return_inverse=True)
        values = _host(values).astype(np.int64)
        gmax = values.size - 1
    else:
        values = np.arange(gmax + 1, dtype=np.int64)
    if xp is np:
        counts, sums = _soft_sparse(g, p, gmax, chunk)
        keep = counts > 0
        return SoftTally(values[keep], counts[keep], sums[keep])
    chunk = max(chunk, GPU_CHUNK)  # few large launches; the temporaries fit on any GPU
    counts = xp.zeros(gmax + 1, dtype=xp.int64)
    sums = xp.zeros(gmax + 1, dtype=xp.float64)
    for s in range(0, int(g.size), chunk):
        gc = g[s : s + chunk]
        counts += xp.bincount(gc, minlength=gmax + 1)
        sums += xp.bincount(gc, weights=p[s : s + chunk].astype(xp.float64), minlength=gmax + 1)
    counts, sums = _host(counts), _host(sums)
    keep = counts > 0
    return SoftTally(values[keep], counts[keep].astype(np.int64), sums[keep].astype(np.float64))


def _soft_sparse(g: Any, p: Any, gmax: int, chunk: int) -> tuple[Any, Any]:
    """On the CPU: the voxel counts per reference value from the joint histogram of the
    reference with itself (the fast integer path), the probability sums from the non-zero
    probabilities only, chunk by chunk (a probability map is mostly zeros)."""
    counts = np.zeros(gmax + 1, dtype=np.int64)
    own = joint_histogram(g, g)
    np.add.at(counts, own.ref_values, own.counts)
    sums = np.zeros(gmax + 1, dtype=np.float64)
    for s in range(0, int(g.size), chunk):
        pc = p[s : s + chunk]
        at = np.flatnonzero(pc)
        if at.size:
            weights = pc[at].astype(np.float64)
            sums += np.bincount(g[s : s + chunk][at], weights=weights, minlength=gmax + 1)
    return counts, sums


def _binary(g: Any, p: Any, n: int, xp: Any, chunk: int) -> Any:
    """0/1 masks: three count_nonzero per chunk on boolean views, no histogram needed."""
    tp = sg = sp = 0
    for s in range(0, n, chunk):
        gc, pc = _as_bool(g[s : s + chunk], xp), _as_bool(p[s : s + chunk], xp)
        tp += int(xp.count_nonzero(gc & pc))
        sg += int(xp.count_nonzero(gc))
        sp += int(xp.count_nonzero(pc))
    return np.array([[n - sg - sp + tp, sp - tp], [sg - tp, tp]], dtype=np.int64)


def _as_bool(a: Any, xp: Any) -> Any:
    # a byte holding 0 or 1 is a valid bool: a free view instead of a comparison
    return a.view(xp.bool_) if a.dtype.itemsize == 1 else a != 0


def _histogram_dense(g: Any, p: Any, kg: int, kp: int, xp: Any, chunk: int) -> Any:
    """Joint histogram through codes ``g * kp + p``.

    On the CPU most voxels of a label map are background in both masks: per chunk, only the
    voxels where either mask is non-zero are coded and counted; the rest add to bin (0, 0). On the
    GPU the whole volume is coded and counted at once.
    """
    bins = kg * kp
    code_type = xp.uint8 if bins <= 256 else xp.uint16 if bins <= 1 << 16 else xp.uint32
    if xp is not np:
        code = g.astype(code_type) * code_type(kp) + p.astype(code_type)
        return _host(xp.bincount(code, minlength=bins)).reshape(kg, kp)
    acc = np.zeros(bins, dtype=np.int64)
    step = min(chunk, SPARSE_CHUNK)
    live = np.empty(step, dtype=bool)
    background = 0
    few = bins <= DENSE_BINS and code_type == np.uint8
    for s in range(0, int(g.size), step):
        gc, pc = g[s : s + step], p[s : s + step]
        mask = live[: gc.size]
        np.logical_or(gc, pc, out=mask)
        live_count = int(np.count_nonzero(mask))
        if not live_count:
            background += gc.size
            continue
        if few and live_count > gc.size // 4:
            # a dense chunk and few value pairs: one comparison per pair beats gathering
            code = gc * np.uint8(kp)
            code += pc
            for c in range(1, bins):
                acc[c] += np.count_nonzero(code == c)
            background += gc.size - int(np.count_nonzero(code))
            continue
        idx = np.flatnonzero(mask)
        background += gc.size - idx.size
        code = gc[idx].astype(code_type) * code_type(kp)
        code += pc[idx].astype(code_type)
        acc += np.bincount(code, minlength=bins)
    acc[0] += background
    return acc.reshape(kg, kp)


def _histogram_by_unique(g: Any, p: Any, xp: Any) -> JointHistogram:
    """Negative or huge label values: compact both sides through unique() first (a sort)."""
    gv, gi = xp.unique(g, return_inverse=True)
    pv, pi = xp.unique(p, return_inverse=True)
    kp = int(pv.size)
    table = _host(xp.bincount(gi.ravel() * kp + pi.ravel(), minlength=int(gv.size) * kp))
    hist = _sparse(table.reshape(int(gv.size), kp))
    gvals, pvals = _host(gv).astype(np.int64), _host(pv).astype(np.int64)
    return JointHistogram(gvals[hist.ref_values], pvals[hist.pred_values], hist.counts)


def _is_cupy(xp: Any) -> bool:
    """CuPy itself (not numpy, nor a stand-in module in the tests): the fused kernel applies."""
    return xp is not np and hasattr(xp, "RawModule")


def _lowest(a: Any, xp: Any) -> int:
    return 0 if a.dtype.kind in "bu" else int(xp.min(a))


def _sparse(table: Any) -> JointHistogram:
    gi, pi = np.nonzero(table)
    return JointHistogram(gi.astype(np.int64), pi.astype(np.int64), table[gi, pi].astype(np.int64))


def _host(a: Any) -> Any:
    """A numpy copy of a numpy or CuPy array (CuPy arrays have ``.get()``)."""
    return a.get() if hasattr(a, "get") else np.asarray(a)
