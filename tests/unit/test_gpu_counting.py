"""The fused CUDA counting kernel against a brute-force count on the host (needs a CUDA device).

Every path of ``cuda_counting.joint_table`` is drawn directly: the 16-voxel uint8 groups with a
tail, unaligned views (the scalar kernel), every supported dtype pair, bool masks, long runs and
speckle, the fallbacks (negative values, int64, more value pairs than shared memory holds).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import ROOT

from dicecli.metrics import joint_histogram, soft_tally
from dicecli.metrics.cuda_counting import MAX_BINS, joint_table

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cp():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception:  # noqa: BLE001 - any CUDA problem means no device here
        pytest.skip("no CUDA device")
    return cupy


def brute(g: np.ndarray, p: np.ndarray) -> dict[tuple[int, int], int]:
    """(reference, prediction) value pair -> voxels, by np.unique over the stacked pairs."""
    pairs, counts = np.unique(
        np.stack([g.ravel().astype(np.int64), p.ravel().astype(np.int64)]),
        axis=1,
        return_counts=True,
    )
    return {(int(a), int(b)): int(c) for (a, b), c in zip(pairs.T, counts, strict=True)}


def as_dict(hist) -> dict[tuple[int, int], int]:
    return {
        (int(a), int(b)): int(c)
        for a, b, c in zip(hist.ref_values, hist.pred_values, hist.counts, strict=True)
    }


def runs(rng: np.random.Generator, n: int, labels: int, dtype) -> np.ndarray:
    """Label runs of random lengths (1-300 voxels), a third of them background: like a row."""
    lengths = rng.integers(1, 300, n // 50 + 2)
    values = rng.integers(0, labels, lengths.size)
    values[rng.random(lengths.size) < 0.33] = 0
    return np.repeat(values, lengths)[:n].astype(dtype)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 31, 4096, 100_003, 1 << 20])
def test_uint8_groups_and_tail(cp, n):
    rng = np.random.default_rng(n)
    g, p = runs(rng, n, 6, np.uint8), runs(rng, n, 6, np.uint8)
    p[rng.random(n) < 0.05] = 3  # speckle breaks the runs
    hist = joint_histogram(cp.asarray(g), cp.asarray(p), cp)
    assert as_dict(hist) == brute(g, p)


def test_unaligned_views_take_the_scalar_kernel(cp):
    rng = np.random.default_rng(1)
    g, p = runs(rng, 70_001, 5, np.uint8), runs(rng, 70_001, 5, np.uint8)
    dg, dp = cp.asarray(g), cp.asarray(p)
    for offset in (1, 3, 8, 15):
        table = joint_table(dg[offset:], dp[offset:], cp)
        assert table is not None
        expect = brute(g[offset:], p[offset:])
        got = {(int(a), int(b)): int(table[a, b]) for a, b in zip(*np.nonzero(table), strict=True)}
        assert got == expect


@pytest.mark.parametrize(
    ("gtype", "ptype"),
    [
        (np.uint8, np.uint16),
        (np.uint16, np.uint16),
        (np.int16, np.int16),
        (np.int8, np.uint8),
        (np.int32, np.uint32),
        (np.uint32, np.int32),
    ],
)
def test_dtype_pairs(cp, gtype, ptype):
    rng = np.random.default_rng(7)
    g, p = runs(rng, 250_000, 9, gtype), runs(rng, 250_000, 9, ptype)
    g[:1000] = 40  # a label well above the rest: the OR bound still covers it
    hist = joint_histogram(cp.asarray(g), cp.asarray(p), cp)
    assert as_dict(hist) == brute(g, p)


def test_bool_masks(cp):
    rng = np.random.default_rng(3)
    g, p = runs(rng, 333_333, 2, bool), runs(rng, 333_333, 2, bool)
    hist = joint_histogram(cp.asarray(g), cp.asarray(p), cp)
    assert as_dict(hist) == brute(g, p)


def test_all_background_and_all_foreground(cp):
    zeros = np.zeros(1 << 16, np.uint8)
    ones = np.full(1 << 16, 2, np.uint8)
    assert as_dict(joint_histogram(cp.asarray(zeros), cp.asarray(zeros), cp)) == {(0, 0): 1 << 16}
    assert as_dict(joint_histogram(cp.asarray(ones), cp.asarray(ones), cp)) == {(2, 2): 1 << 16}
    assert as_dict(joint_histogram(cp.asarray(zeros), cp.asarray(ones), cp)) == {(0, 2): 1 << 16}


def test_fallbacks_count_exactly(cp):
    rng = np.random.default_rng(11)
    g = runs(rng, 200_000, 7, np.int16)
    g[::97] = -3  # negative values: not the kernel's
    p = runs(rng, 200_000, 7, np.int16)
    assert joint_table(cp.asarray(g), cp.asarray(p), cp) is None
    assert as_dict(joint_histogram(cp.asarray(g), cp.asarray(p), cp)) == brute(g, p)
    many = rng.integers(0, 250, 200_000).astype(np.uint8)  # 250 x 250 pairs > MAX_BINS
    assert MAX_BINS < 256 * 256
    assert joint_table(cp.asarray(many), cp.asarray(many[::-1].copy()), cp) is None
    assert as_dict(joint_histogram(cp.asarray(many), cp.asarray(many[::-1].copy()), cp)) == brute(
        many, many[::-1]
    )
    wide = g.astype(np.int64)
    wide[wide < 0] = 5
    assert joint_table(cp.asarray(wide), cp.asarray(p.astype(np.int64)), cp) is None
    assert as_dict(joint_histogram(cp.asarray(wide), cp.asarray(p), cp)) == brute(wide, p)


def test_ct_sized_pair_equals_the_cpu(cp):
    import sys

    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from gen_data import make_case

    gt, pred = make_case((256, 256, 120), 0)
    cpu = as_dict(joint_histogram(gt, pred))
    assert as_dict(joint_histogram(cp.asarray(gt), cp.asarray(pred), cp)) == cpu
    # F-ordered volumes (as NIfTI reads them) are counted through the same flat view
    f_gt, f_pred = np.asfortranarray(gt), np.asfortranarray(pred)
    assert as_dict(joint_histogram(cp.asarray(f_gt), cp.asarray(f_pred), cp)) == cpu


def test_soft_tally_on_the_gpu_equals_the_cpu(cp):
    rng = np.random.default_rng(5)
    g = runs(rng, 3_000_000, 4, np.uint8)
    prob = rng.random(g.size)
    cpu, gpu = soft_tally(g, prob), soft_tally(cp.asarray(g), cp.asarray(prob), cp)
    assert np.array_equal(cpu.ref_values, gpu.ref_values)
    assert np.array_equal(cpu.counts, gpu.counts)
    np.testing.assert_allclose(gpu.prob_sums, cpu.prob_sums, rtol=1e-12)


def test_cli_gpu_equals_cpu_on_the_nifti_example(cp, runner):
    import json

    from dicecli.cli import cli

    nifti = os.path.join(ROOT, "examples", "nifti")
    out = {}
    for device in ("cpu", "gpu"):
        result = runner.invoke(
            cli, ["score", f"{nifti}/pred", f"{nifti}/gt", "--device", device, "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        out[device] = json.loads(result.stdout)
    assert out["gpu"]["backend"].startswith("gpu")
    assert out["gpu"]["cases"] == out["cpu"]["cases"]
