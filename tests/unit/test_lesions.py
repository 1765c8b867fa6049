"""Lesion-wise evaluation on hand-worked cases and the peers' reference vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dicecli.errors import UsageError
from dicecli.metrics.lesions import LesionSettings, evaluate_lesions, parse_match

UNIT3 = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
UNIT2 = ((1.0, 1.0), (0.0, 0.0), tuple(np.eye(2).ravel()))


def run(ref, pred, **settings):
    grid = UNIT3 if ref.ndim == 3 else UNIT2
    empty = settings.pop("empty", "nan")
    return evaluate_lesions(
        ref.astype(bool), pred.astype(bool), *grid, LesionSettings(**settings), empty
    )


@pytest.fixture
def vector():
    """The issue's reference vector: a 40³ volume of 1 mm voxels."""
    ref = np.zeros((40, 40, 40), bool)
    ref[5:15, 5:15, 5:15] = ref[25:29, 5:9, 5:9] = ref[30:33, 30:33, 30:33] = True
    pred = np.zeros_like(ref)
    pred[6:16, 5:15, 5:15] = pred[5:10, 30:35, 30:35] = True
    pred[35, 5, 35] = True
    return ref, pred


def test_panoptica_defaults_reference_vector(vector):
    r = run(*vector)
    assert (r.n_ref, r.n_pred, r.tp, r.fp, r.fn) == (3, 3, 1, 2, 2)
    assert r.f1 == pytest.approx(1 / 3, abs=1e-12)
    assert r.sq == pytest.approx(900 / 1100, abs=1e-12)  # IoU of the shifted cube
    assert r.pq == pytest.approx(900 / 1100 / 3, abs=1e-12)


def test_brats_2023_reference_vector(vector):
    """GLI settings: dilation 3, reference lesions under 50 mm³ dropped, missed/false HD95 374."""
    r = run(*vector, match="overlap", dilation=3, min_size=50, min_size_mm3=True, hd95=True)
    assert (r.tp, r.fp, r.fn) == (1, 2, 1)  # the 27 mm³ cube is dropped, not missed
    assert r.dice == pytest.approx((0.9 + 0) / (2 + 2), abs=1e-12)
    assert r.hd95 == pytest.approx((1.0 + 374 * 3) / 4, abs=1e-12)
    dropped = [x for x in r.lesions if x.status == "dropped"]
    assert [x.voxels for x in dropped] == [27]


def test_split_lesion_one_half_matches_at_iou_half_not_strictly_above():
    ref = np.zeros((10, 10), bool)
    ref[2:6, 2:6] = True  # 16 pixels
    pred = np.zeros_like(ref)
    pred[2:6, 2:4] = True  # 8: IoU 0.5 exactly
    pred[7:9, 2:4] = True  # a separate false positive
    r = run(ref, pred)
    assert (r.tp, r.fp, r.fn) == (1, 1, 0)
    assert r.sq == 0.5
    strict = run(ref, pred, iou_threshold=0.5, strict=True)
    assert (strict.tp, strict.fp, strict.fn) == (0, 2, 1)
    assert strict.sq == 0.0  # no match: SQ 0, as panoptica


def test_merged_prediction_matches_one_of_two_lesions():
    ref = np.zeros((12, 12, 3), bool)
    ref[1:5, 1:5, 1] = True  # 16
    ref[6:11, 1:5, 1] = True  # 20
    pred = np.zeros_like(ref)
    pred[1:11, 1:5, 1] = True  # one component over both: IoU 20/40 with the larger
    r = run(ref, pred)
    assert (r.n_ref, r.n_pred, r.tp, r.fp, r.fn) == (2, 1, 1, 0, 1)
    assert r.sq == pytest.approx(0.5)
    overlap = run(ref, pred, match="overlap")
    assert (overlap.tp, overlap.fp, overlap.fn) == (2, 0, 0)  # both touched by the prediction
    assert overlap.dice == pytest.approx((2 * 16 / 56 + 2 * 20 / 60) / 2)


@pytest.mark.parametrize(("connectivity", "lesions"), [(26, 1), (18, 2), (6, 2), (None, 1)])
def test_diagonal_pair_is_one_lesion_only_with_26_connectivity(connectivity, lesions):
    ref = np.zeros((5, 5, 5), bool)
    ref[1, 1, 1] = ref[2, 2, 2] = True  # corners touch
    r = run(ref, ref, connectivity=connectivity)
    assert r.n_ref == lesions
    assert (r.tp, r.fp, r.fn) == (lesions, 0, 0)


@pytest.mark.parametrize(("connectivity", "lesions"), [(8, 1), (4, 2)])
def test_2d_connectivity(connectivity, lesions):
    ref = np.zeros((4, 4), bool)
    ref[0, 0] = ref[1, 1] = True
    assert run(ref, ref, connectivity=connectivity).n_ref == lesions


def test_lesions_below_the_minimum_size_are_dropped_on_both_sides():
    ref = np.zeros((10, 10, 10), bool)
    ref[1:4, 1:4, 1:4] = True  # 27
    ref[7, 7, 7] = True  # 1
    pred = ref.copy()
    pred[7, 7, 7] = False
    pred[8, 1, 8] = True  # a one-voxel false positive
    r = run(ref, pred)
    assert (r.tp, r.fp, r.fn) == (1, 1, 1)
    kept = run(ref, pred, min_size=2)
    assert (kept.n_ref, kept.n_pred, kept.tp, kept.fp, kept.fn) == (1, 1, 1, 0, 0)
    in_mm3 = evaluate_lesions(
        ref,
        pred,
        (2.0, 2.0, 2.0),
        (0.0,) * 3,
        UNIT3[2],
        LesionSettings(min_size=16, min_size_mm3=True),
    )
    assert (in_mm3.n_ref, in_mm3.n_pred) == (1, 1)  # 1 voxel = 8 mm³ < 16


def test_both_empty_follows_the_empty_policy_and_one_side_empty_scores_zero():
    empty = np.zeros((5, 5, 5), bool)
    nan = run(empty, empty)
    assert math.isnan(nan.f1)
    assert math.isnan(nan.dice)
    one = run(empty, empty, empty="one")
    assert (one.f1, one.sq, one.pq, one.dice) == (1.0, 1.0, 1.0, 1.0)
    lesion = empty.copy()
    lesion[1:3, 1:3, 1:3] = True
    missed = run(lesion, empty)
    assert (missed.tp, missed.fn, missed.f1, missed.sq, missed.dice) == (0, 1, 0.0, 0.0, 0.0)
    invented = run(empty, lesion)
    assert (invented.fp, invented.f1) == (1, 0.0)


def test_overlaps_equal_a_brute_force_count(rng):
    """Greedy IoU matching from the one-pass histogram equals pairs counted one by one."""
    from scipy import ndimage

    ref = ndimage.binary_opening(rng.random((30, 30, 12)) < 0.3)
    pred = ndimage.binary_opening(rng.random((30, 30, 12)) < 0.3)
    r = run(ref, pred)
    lr, nr = ndimage.label(ref, np.ones((3, 3, 3)))
    lp, np_ = ndimage.label(pred, np.ones((3, 3, 3)))
    pairs = []
    for i in range(1, nr + 1):
        for j in range(1, np_ + 1):
            inter = np.sum((lr == i) & (lp == j))
            if inter:
                pairs.append((inter / np.sum((lr == i) | (lp == j)), i, j))
    used_r, used_p, ious = set(), set(), []
    for iou, i, j in sorted(pairs, key=lambda t: (-t[0], t[1], t[2])):
        if i not in used_r and j not in used_p and iou >= 0.5:
            used_r.add(i)
            used_p.add(j)
            ious.append(iou)
    assert (r.n_ref, r.n_pred, r.tp) == (nr, np_, len(ious))
    assert r.sq == pytest.approx(np.mean(ious) if ious else 0.0, abs=1e-12)


def test_lesion_centroids_are_physical():
    ref = np.zeros((6, 6, 6), bool)
    ref[2:4, 2:4, 2:4] = True
    r = evaluate_lesions(ref, ref, (0.5, 0.5, 2.0), (10.0, -5.0, 100.0), UNIT3[2], LesionSettings())
    lesion = r.lesions[0]
    assert lesion.centroid_mm == pytest.approx((10 + 2.5 * 0.5, -5 + 2.5 * 0.5, 100 + 2.5 * 2))
    assert lesion.volume_ml == pytest.approx(8 * 0.5 * 0.5 * 2 / 1000)
    assert lesion.bbox == (2, 2, 2, 4, 4, 4)


@pytest.mark.parametrize("spec", ["iou", "iou:2", "dice:0.5", "overlapping"])
def test_bad_match_specs(spec):
    with pytest.raises(UsageError, match="--lesion-match"):
        parse_match(spec)


def test_match_specs():
    assert parse_match("iou:0.3") == ("iou", 0.3, False)
    assert parse_match("iou>0.5") == ("iou", 0.5, True)
    assert parse_match("iou>=0.1") == ("iou", 0.1, False)
    assert parse_match("overlap") == ("overlap", 0.0, False)


def test_memory_layout_does_not_change_the_result(vector):
    ref, pred = vector
    c = run(np.ascontiguousarray(ref), np.ascontiguousarray(pred))
    f = run(np.asfortranarray(ref), np.asfortranarray(pred))
    mixed = run(np.asfortranarray(ref), pred[:, :, :])
    turned = run(ref.transpose(2, 1, 0).T, pred)  # a non-contiguous view
    for other in (f, mixed, turned):
        assert (other.tp, other.fp, other.fn, other.sq) == (c.tp, c.fp, c.fn, c.sq)
        assert sorted(x.centroid_mm for x in other.lesions) == sorted(
            x.centroid_mm for x in c.lesions
        )


def test_overlap_rule_merges_reference_lesions_whose_dilations_touch():
    ref = np.zeros((20, 10, 10), bool)
    ref[2:5, 2:5, 2:5] = True
    ref[7:10, 2:5, 2:5] = True  # 2 voxels apart: dilations by 1 touch
    ref[16:18, 2:4, 2:4] = True  # far away: stays alone
    pred = np.zeros_like(ref)
    pred[2:5, 2:5, 2:5] = True  # finds the first only
    apart = run(ref, pred, match="overlap")
    assert (apart.n_ref, apart.tp, apart.fn) == (3, 1, 2)
    merged = run(ref, pred, match="overlap", dilation=1)
    assert (merged.n_ref, merged.tp, merged.fn, merged.fp) == (2, 1, 1, 0)
    assert merged.dice == pytest.approx((2 * 27 / (54 + 27) + 0) / 2)
    first = next(x for x in merged.lesions if x.side == "reference" and x.status == "TP")
    assert first.voxels == 54
