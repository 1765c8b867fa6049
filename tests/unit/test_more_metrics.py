"""MCC, Cohen's kappa, F-beta, volumetric similarity, volume differences and the directed
distances, against published vectors, scikit-learn, SimpleITK and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk
from scipy.spatial.distance import cdist

from dicecli.metrics import joint_histogram, overlap_metrics
from dicecli.metrics.overlap import match_counts
from dicecli.metrics.surface import surface, surface_metrics, surface_stats
from dicecli.models import Counts

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def counts_of(ref: np.ndarray, pred: np.ndarray) -> Counts:
    return match_counts(joint_histogram(ref.astype(np.uint8), pred.astype(np.uint8)), (1,), (1,))


def test_metrics_reloaded_vector_mcc_and_kappa():
    # Metrics Reloaded (Maier-Hein et al., Nat Methods 2024), its worked example:
    # TP 45, FN 5, FP 10, TN 40 -> MCC 0.7035, Cohen's kappa 0.7000
    m = overlap_metrics(Counts(tp=45, fp=10, fn=5, tn=40))
    assert round(m["mcc"], 4) == 0.7035
    assert round(m["kappa"], 4) == 0.7000


@pytest.mark.parametrize("seed", range(6))
def test_mcc_kappa_fbeta_equal_scikit_learn_on_random_masks(seed):
    rng = np.random.default_rng(seed)
    shape = (30, 20, 6)
    ref = rng.random(shape) < rng.uniform(0.05, 0.6)
    pred = np.where(rng.random(shape) < 0.8, ref, rng.random(shape) < 0.3)
    beta = [0.5, 1.0, 2.0, 3.0][seed % 4]
    m = overlap_metrics(counts_of(ref, pred), beta=beta)
    y, p = ref.ravel(), pred.ravel()
    assert m["mcc"] == pytest.approx(sklearn_metrics.matthews_corrcoef(y, p), abs=1e-12)
    assert m["kappa"] == pytest.approx(sklearn_metrics.cohen_kappa_score(y, p), abs=1e-12)
    assert m["fbeta"] == pytest.approx(sklearn_metrics.fbeta_score(y, p, beta=beta), abs=1e-12)
    if beta == 1.0:
        assert m["fbeta"] == pytest.approx(m["dice"], abs=1e-15)


def test_undefined_values_are_nan_or_follow_empty_as_documented():
    both_empty = overlap_metrics(Counts(0, 0, 0, 50), empty="one")
    assert math.isnan(both_empty["mcc"])  # scikit-learn says 0.0: a documented difference
    assert math.isnan(both_empty["kappa"])  # one class everywhere: chance agreement 1
    assert both_empty["fbeta"] == 1.0  # --empty one, as Dice
    assert both_empty["vs"] == 1.0
    assert math.isnan(both_empty["rvd"])  # an empty reference
    missed = overlap_metrics(Counts(0, 0, 7, 50))
    assert missed["fbeta"] == 0.0
    assert missed["vs"] == 0.0
    assert missed["rvd"] == -1.0
    assert math.isnan(missed["mcc"])  # the prediction's marginal is empty
    assert overlap_metrics(Counts(3, 2, 1, 10), voxel_ml=0.5)["avd_ml"] == 0.5
    assert math.isnan(overlap_metrics(Counts(3, 2, 1, 10))["avd_ml"])  # no geometry


@pytest.mark.parametrize("seed", range(4))
def test_volumetric_similarity_is_one_minus_half_simpleitks_signed_form(seed):
    rng = np.random.default_rng(10 + seed)
    ref = rng.random((24, 20, 5)) < 0.3
    pred = np.roll(ref, seed, axis=0) & (rng.random(ref.shape) < 0.9)
    f = sitk.LabelOverlapMeasuresImageFilter()
    f.Execute(
        sitk.GetImageFromArray(ref.astype(np.uint8)), sitk.GetImageFromArray(pred.astype(np.uint8))
    )
    signed = f.GetVolumeSimilarity()  # ITK: 2(|S|-|T|)/(|S|+|T|), source = the reference here
    assert signed == pytest.approx(2 * (ref.sum() - pred.sum()) / (ref.sum() + pred.sum()))
    m = overlap_metrics(counts_of(ref, pred))
    assert m["vs"] == pytest.approx(1 - abs(signed) / 2, abs=1e-12)
    assert m["rvd"] == pytest.approx((pred.sum() - ref.sum()) / ref.sum(), abs=1e-12)


def brute_directed(a: np.ndarray, b: np.ndarray, spacing) -> tuple[float, np.ndarray]:
    """Every distance from a's surface voxels to b's surface voxels (physical), brute force."""
    pa = np.argwhere(surface(a)) * np.asarray(spacing)
    pb = np.argwhere(surface(b)) * np.asarray(spacing)
    d = cdist(pa, pb).min(axis=1)
    return float(d.max()), d


@pytest.mark.parametrize(
    ("shape", "spacing"), [((40, 32), (0.7, 1.3)), ((24, 20, 9), (0.8, 0.8, 2.5))]
)
def test_directed_distances_equal_brute_force(shape, spacing):
    rng = np.random.default_rng(len(shape))
    grid = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    centre = [n / 2 for n in shape]
    ref = sum(((g - c) / (n / 3)) ** 2 for g, c, n in zip(grid, centre, shape, strict=True)) < 1
    pred = np.roll(ref, 2, axis=0) | (rng.random(shape) < 0.01)
    stats = surface_stats(ref, pred, spacing, percentile=95)
    values = surface_metrics(stats)
    hd_rp, d_rp = brute_directed(ref, pred, spacing)
    hd_pr, d_pr = brute_directed(pred, ref, spacing)
    assert values["hd_rp"] == pytest.approx(hd_rp, rel=1e-12)
    assert values["hd_pr"] == pytest.approx(hd_pr, rel=1e-12)
    assert values["hd95_rp"] == pytest.approx(np.percentile(d_rp, 95), rel=1e-12)
    assert values["hd95_pr"] == pytest.approx(np.percentile(d_pr, 95), rel=1e-12)
    assert values["hd"] == max(values["hd_rp"], values["hd_pr"])
    assert values["hd95"] == max(values["hd95_rp"], values["hd95_pr"])


def test_directed_distances_of_an_empty_mask_take_the_empty_distance():
    empty = np.zeros((8, 8), bool)
    full = empty.copy()
    full[2:5, 2:5] = True
    values = surface_metrics(surface_stats(full, empty, (1.0, 1.0)), empty_distance=99.0)
    assert {values[k] for k in ("hd_rp", "hd_pr", "hd95_rp", "hd95_pr")} == {99.0}


def test_boundary_iou_reproduces_metrics_reloaded():
    """Metrics Reloaded's example: a 22x22 image, reference [2:21, 2:21], prediction
    [3:21, 2:21] -> boundary IoU 0.5955 at a band of 1 voxel, 0.7748 at 2 voxels."""
    from dicecli.metrics.surface import boundary_iou

    ref = np.zeros((22, 22), bool)
    ref[2:21, 2:21] = True
    pred = np.zeros((22, 22), bool)
    pred[3:21, 2:21] = True
    assert round(boundary_iou(ref, pred, 1.0, (1.0, 1.0)), 4) == 0.5955
    assert round(boundary_iou(ref, pred, 2.0, (1.0, 1.0)), 4) == 0.7748
    stats = surface_stats(ref, pred, (1.0, 1.0), band=(2.0, (1.0, 1.0)))
    assert round(surface_metrics(stats)["biou"], 4) == 0.7748


def brute_band(mask: np.ndarray, width: float, spacing) -> np.ndarray:
    """Inside voxels whose nearest outside voxel (the image padded with outside) is within
    ``width`` mm, by brute force over every pair."""
    padded = np.pad(mask, 1)
    inside = np.argwhere(padded) * np.asarray(spacing)
    outside = np.argwhere(~padded) * np.asarray(spacing)
    near = cdist(inside, outside).min(axis=1) <= width
    band = np.zeros_like(padded)
    band[tuple(np.argwhere(padded)[near].T)] = True
    return band[tuple(slice(1, -1) for _ in mask.shape)]


def test_boundary_iou_is_spacing_aware_as_brute_force():
    from dicecli.metrics.surface import boundary_iou

    rng = np.random.default_rng(4)
    shape, spacing = (14, 12, 6), (0.8, 0.8, 2.5)
    grid = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    ref = sum(((g - n / 2) / (n / 3)) ** 2 for g, n in zip(grid, shape, strict=True)) < 1
    pred = np.roll(ref, 1, axis=1) & (rng.random(shape) < 0.97)
    a, b = brute_band(ref, 2.0, spacing), brute_band(pred, 2.0, spacing)
    expected = (a & b).sum() / (a | b).sum()
    assert boundary_iou(ref, pred, 2.0, spacing) == pytest.approx(expected, abs=1e-15)
    assert math.isnan(boundary_iou(np.zeros(shape, bool), np.zeros(shape, bool), 2.0, spacing))
