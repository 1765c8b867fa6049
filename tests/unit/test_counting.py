"""One-pass joint histogram and soft tallies against brute-force boolean counts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import brute_counts

from dicecli.metrics import joint_histogram, region_counts, soft_tally
from dicecli.models import Region

CASES = [
    pytest.param(np.uint8, 0, 4, id="uint8-4-labels"),
    pytest.param(np.uint8, 0, 2, id="uint8-binary"),
    pytest.param(np.uint8, 0, 200, id="uint8-wide-values"),
    pytest.param(np.uint16, 0, 1000, id="uint16"),
    pytest.param(np.int16, -3, 5, id="int16-negative"),
    pytest.param(np.int32, 0, 70000, id="int32-huge-values"),
    pytest.param(np.int64, 0, 6, id="int64"),
]


@pytest.mark.parametrize(("dtype", "lo", "hi"), CASES)
@pytest.mark.parametrize("chunk", [1 << 18, 1001], ids=["chunk-256k", "chunk-odd"])
def test_joint_histogram_matches_boolean_counts(dtype, lo, hi, chunk, rng):
    shape = (33, 29, 7)  # odd voxel count: exercises the pair-view tail
    gt = rng.integers(lo, hi, shape).astype(dtype)
    pred = rng.integers(lo, hi, shape).astype(dtype)
    hist = joint_histogram(gt, pred, chunk=chunk)
    assert int(hist.counts.sum()) == gt.size
    values = sorted(set(np.unique(gt)) | set(np.unique(pred)))
    for v in values[:6]:
        counts = region_counts(hist, Region(str(v), (int(v),)))
        assert (counts.tp, counts.fp, counts.fn, counts.tn) == brute_counts(gt, pred, (int(v),))


def test_joint_histogram_pairs_voxels_across_memory_orders(rng):
    gt = rng.integers(0, 3, (20, 30, 5)).astype(np.uint8)
    pred = rng.integers(0, 3, (20, 30, 5)).astype(np.uint8)
    hist = joint_histogram(np.asfortranarray(gt), np.ascontiguousarray(pred))
    counts = region_counts(hist, Region("1", (1,)))
    assert (counts.tp, counts.fp, counts.fn, counts.tn) == brute_counts(gt, pred, (1,))


def test_union_region_and_ignore_label(rng):
    gt = rng.integers(0, 6, (40, 40)).astype(np.uint8)
    pred = rng.integers(0, 6, (40, 40)).astype(np.uint8)
    hist = joint_histogram(gt, pred)
    counts = region_counts(hist, Region("wt", (1, 2, 4)), ignore=5)
    assert (counts.tp, counts.fp, counts.fn, counts.tn) == brute_counts(gt, pred, (1, 2, 4), 5)


def test_bool_inputs_and_empty_arrays():
    gt = np.array([[True, False], [True, True]])
    pred = np.array([[True, True], [False, False]])
    counts = region_counts(joint_histogram(gt, pred), Region("1", (1,)))
    assert (counts.tp, counts.fp, counts.fn, counts.tn) == (1, 1, 2, 0)
    empty = joint_histogram(np.zeros((0, 3), np.uint8), np.zeros((0, 3), np.uint8))
    assert empty.counts.size == 0


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="shapes differ"):
        joint_histogram(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8))


def test_soft_tally_matches_direct_sums(rng):
    gt = rng.integers(0, 3, (17, 13, 3)).astype(np.uint8)
    prob = rng.random((17, 13, 3)).astype(np.float32)
    tally = soft_tally(gt, prob, chunk=100)
    counts = region_counts(tally, Region("2", (2,)))
    g = (gt == 2).astype(np.float64)
    p = prob.astype(np.float64)
    assert counts.tp == pytest.approx(float((p * g).sum()), rel=1e-12)
    assert counts.fp == pytest.approx(float((p * (1 - g)).sum()), rel=1e-12)
    assert counts.fn == pytest.approx(float(((1 - p) * g).sum()), rel=1e-12)
    assert counts.tn == pytest.approx(float(((1 - p) * (1 - g)).sum()), rel=1e-12)


def test_counting_working_set_is_bounded(rng):
    """Counting a pair allocates a bounded working set, not a copy of the volumes."""
    import tracemalloc

    shape = (256, 256, 128)  # 8 M voxels, 8 MB per volume
    gt = np.zeros(shape, np.uint8)
    gt[60:200, 50:180, 20:100] = rng.integers(0, 4, (140, 130, 80), dtype=np.uint8)
    pred = np.roll(gt, 3, axis=0)
    tracemalloc.start()
    try:
        joint_histogram(gt, pred)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024  # < 2 MB for 16 MB of input
