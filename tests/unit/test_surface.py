"""Surface metrics against hand-worked cases and a brute-force all-pairs implementation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dicecli.metrics.surface import surface, surface_metrics, surface_stats


def brute_surface(mask: np.ndarray) -> np.ndarray:
    """The definition, voxel by voxel: in the mask with a face neighbour outside it (or the
    image)."""
    out = np.zeros_like(mask)
    for index in itertools.product(*(range(n) for n in mask.shape)):
        if not mask[index]:
            continue
        for axis, step in itertools.product(range(mask.ndim), (-1, 1)):
            j = list(index)
            j[axis] += step
            if not 0 <= j[axis] < mask.shape[axis] or not mask[tuple(j)]:
                out[index] = True
                break
    return out


def brute_metrics(ref, pred, spacing, percentile=95.0, tolerance=1.0):
    a = np.argwhere(brute_surface(ref)) * np.asarray(spacing)
    b = np.argwhere(brute_surface(pred)) * np.asarray(spacing)
    pairwise = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    d_ab, d_ba = pairwise.min(axis=1), pairwise.min(axis=0)
    both = np.concatenate([d_ab, d_ba])
    return {
        "hd": max(d_ab.max(), d_ba.max()),
        "hd95": max(np.percentile(d_ab, percentile), np.percentile(d_ba, percentile)),
        "hd95_pooled": np.percentile(both, percentile),
        "assd": both.mean(),
        "masd": (d_ab.mean() + d_ba.mean()) / 2,
        "nsd": (np.sum(d_ab <= tolerance) + np.sum(d_ba <= tolerance)) / both.size,
    }


def test_hand_worked_2d_anisotropic():
    ref = np.zeros((5, 3), bool)
    pred = np.zeros((5, 3), bool)
    ref[0, 0] = True
    pred[2, 0] = True  # two steps of 2.0 mm along x
    stats = surface_stats(ref, pred, (2.0, 1.0), tolerance=3.0)
    m = surface_metrics(stats)
    assert (m["hd"], m["hd95"], m["assd"], m["masd"], m["nsd"]) == (4.0, 4.0, 4.0, 4.0, 0.0)
    assert surface_metrics(surface_stats(ref, pred, (2.0, 1.0), tolerance=4.0))["nsd"] == 1.0


def test_hand_worked_3d_cube_inside_a_bigger_cube():
    ref = np.zeros((7, 7, 7), bool)
    ref[1:6, 1:6, 1:6] = True  # 5^3 cube: surface 5^3 - 3^3 = 98 voxels
    pred = np.zeros_like(ref)
    pred[2:5, 2:5, 2:5] = True  # 3^3 cube: surface 26 voxels (all but the centre)
    stats = surface_stats(ref, pred, (1.0, 1.0, 3.0))
    assert (stats.n_ref, stats.n_pred) == (98, 26)
    # a corner of the big cube (1,1,1) to the nearest small-cube voxel (2,2,2): sqrt(1+1+9)
    assert surface_metrics(stats)["hd"] == pytest.approx(math.sqrt(11))


def test_surface_counts_the_image_border_as_outside():
    full = np.ones((3, 4), bool)
    expected = np.ones((3, 4), bool)
    expected[1, 1:3] = False
    np.testing.assert_array_equal(surface(full), expected)


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_all_pairs(seed):
    rng = np.random.default_rng(seed)
    shape = (9, 8, 6) if seed % 2 else (14, 11)
    spacing = (0.7, 1.3, 2.5)[: len(shape)]
    ref = rng.random(shape) < 0.35
    pred = np.roll(ref, 1, axis=0) ^ (rng.random(shape) < 0.1)
    expected = brute_metrics(ref, pred, spacing, percentile=90.0, tolerance=1.5)
    stats = surface_stats(ref, pred, spacing, percentile=90.0, tolerance=1.5)
    got = surface_metrics(stats)
    for key in ("hd", "hd95", "assd", "masd", "nsd"):
        assert got[key] == pytest.approx(expected[key], abs=1e-12), key
    pooled = surface_metrics(stats, hd95_mode="pooled")["hd95"]
    assert pooled == pytest.approx(expected["hd95_pooled"], abs=1e-12)


@pytest.mark.parametrize(
    ("empty_distance", "expected"),
    [
        pytest.param(math.nan, math.nan, id="nan"),
        pytest.param(math.inf, math.inf, id="inf"),
        pytest.param(373.0, 373.0, id="value"),
    ],
)
def test_one_empty_mask_follows_the_distance_policy(empty_distance, expected):
    ref = np.zeros((4, 4), bool)
    ref[1, 1] = True
    m = surface_metrics(
        surface_stats(ref, np.zeros_like(ref), (1.0, 1.0)), empty_distance=empty_distance
    )
    for key in ("hd", "hd95", "assd", "masd"):
        assert (math.isnan(m[key]) and math.isnan(expected)) or m[key] == expected
    assert m["nsd"] == 0.0


def test_both_empty_nsd_follows_empty_policy():
    empty = np.zeros((4, 4), bool)
    stats = surface_stats(empty, empty, (1.0, 1.0))
    assert surface_metrics(stats, empty_nsd=1.0)["nsd"] == 1.0
    assert math.isnan(surface_metrics(stats)["hd95"])


def test_far_apart_surfaces_fall_back_to_the_kd_tree_exactly():
    ref = np.zeros((30, 12, 5), bool)
    pred = np.zeros_like(ref)
    ref[0:3, 0:3, 0:2] = True
    pred[25:28, 8:11, 3:5] = True  # far beyond the neighbour search radius
    expected = brute_metrics(ref, pred, (0.9, 1.1, 3.0))
    got = surface_metrics(surface_stats(ref, pred, (0.9, 1.1, 3.0)))
    for key in ("hd", "hd95", "assd", "masd"):
        assert got[key] == pytest.approx(expected[key], abs=1e-12), key
    assert got["hd"] > 20
