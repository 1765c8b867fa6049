"""Per-lesion region Dice (each reference lesion's Voronoi region) and detection by lesion size:
hand-worked cases, a brute-force region count, and the bins adding up to the unbinned counts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import write_nifti
from scipy import ndimage

from dicecli.cli import cli
from dicecli.errors import UsageError
from dicecli.metrics.lesion_bins import bin_counts, parse_size_bins
from dicecli.metrics.lesions import LesionSettings, evaluate_lesions


def evaluate(ref, pred, spacing=None, **settings):
    n = ref.ndim
    spacing = spacing or (1.0,) * n
    return evaluate_lesions(
        ref.astype(bool),
        pred.astype(bool),
        tuple(spacing),
        (0.0,) * n,
        tuple(np.eye(n).ravel()),
        LesionSettings(**settings),
    )


def test_region_dice_by_hand():
    ref = np.zeros((20, 20), bool)
    ref[2:6, 2:6] = ref[12:16, 12:16] = True  # lesions A and B, 16 voxels each
    pred = np.zeros_like(ref)
    pred[2:6, 3:7] = True  # A found one column off: 12 voxels inside A
    pred[2:4, 8:10] = True  # a false positive three columns from A, far from B
    result = evaluate(ref, pred)
    regions = [les.region_dice for les in result.lesions if les.side == "reference"]
    # A's region holds all 20 predicted voxels: 2 * 12 / (16 + 20); B's none
    assert regions == pytest.approx([24 / 36, 0.0], abs=1e-12)
    assert result.region_dice == pytest.approx(12 / 36, abs=1e-12)
    assert all(math.isnan(les.region_dice) for les in result.lesions if les.side == "prediction")


def boxes(rng, shape, n):
    """``n`` boxes of random place and size (1 to 5 voxels a side)."""
    mask = np.zeros(shape, bool)
    for _ in range(n):
        low = [int(rng.integers(0, d - 1)) for d in shape]
        mask[tuple(slice(lo, lo + int(rng.integers(1, 6))) for lo in low)] = True
    return mask


def nearest_lesions(ref, spacing):
    """Each voxel's reference lesion by a distance map per lesion (scipy's exact EDT on the
    spacing), and where two lesions are equally near (either may own the voxel)."""
    lesions, n = ndimage.label(ref, np.ones((3,) * ref.ndim))
    distances = np.stack(
        [ndimage.distance_transform_edt(lesions != k, sampling=spacing) for k in range(1, n + 1)]
    )
    order = np.sort(distances, axis=0)
    ties = order[0] + 1e-9 >= order[1] if n > 1 else np.zeros(ref.shape, bool)
    return lesions, n, np.argmin(distances, axis=0) + 1, ties


def brute_region_dice(lesions, n, owner, pred):
    dice = []
    for k in range(1, n + 1):
        inside = np.count_nonzero(pred & (lesions == k))
        region = np.count_nonzero(pred & (owner == k))
        dice.append(2 * inside / (np.count_nonzero(lesions == k) + region))
    return dice


@pytest.mark.parametrize("seed", range(8))
def test_region_dice_equals_a_brute_force_voronoi_count(seed):
    rng = np.random.default_rng(seed)
    shape = (18, 15, 7)
    spacing = (0.8123, 1.0, 1.9371)  # anisotropic, so that equal distances are rare
    ref = boxes(rng, shape, 5)
    pred = ndimage.binary_dilation(ref, iterations=int(seed % 2)) ^ (rng.random(shape) < 0.04)
    lesions, n, owner, ties = nearest_lesions(ref, spacing)
    pred &= ~ties  # no predicted voxel equally near two lesions: its owner is then certain
    expected = brute_region_dice(lesions, n, owner, pred)
    result = evaluate(ref, pred, spacing)
    found = [les.region_dice for les in result.lesions if les.side == "reference"]
    # dicecli numbers components by first voxel in storage order, as ndimage.label does in C
    assert found == pytest.approx(expected, abs=1e-12)


def test_a_case_without_reference_lesions_has_no_region_dice():
    pred = np.zeros((6, 6), bool)
    pred[1:3, 1:3] = True
    assert math.isnan(evaluate(np.zeros_like(pred), pred).region_dice)
    empty = evaluate_lesions(
        np.zeros((4, 4), bool), np.zeros((4, 4), bool), (1, 1), (0, 0), (1, 0, 0, 1),
        LesionSettings(), "one",
    )  # fmt: skip
    assert empty.region_dice == 1.0


def cubes(spacing=(1.0, 1.0, 1.0)):
    """Reference cubes of 1, 8, 27 and 64 voxels; the prediction finds the two largest exactly,
    misses the others, and invents a cube of 8 voxels."""
    ref = np.zeros((30, 12, 12), bool)
    ref[1, 1, 1] = True
    ref[4:6, 1:3, 1:3] = True
    ref[9:12, 1:4, 1:4] = True
    ref[16:20, 1:5, 1:5] = True
    pred = np.zeros_like(ref)
    pred[9:12, 1:4, 1:4] = pred[16:20, 1:5, 1:5] = True
    pred[25:27, 8:10, 8:10] = True
    return ref, pred


def test_size_bins_by_hand_in_voxels_and_mm3():
    ref, pred = cubes()
    result = evaluate(ref, pred)
    assert bin_counts(result.lesions, parse_size_bins("5,30")) == [(0, 1, 0), (1, 1, 1), (1, 0, 0)]
    mm = evaluate(ref, pred, spacing=(2.0, 1.0, 1.0))  # voxels of 2 mm³: 2, 16, 54, 128 mm³
    bins = parse_size_bins("5, 30 mm3")
    assert bins.names == ("0-5", "5-30", "30+")
    assert bin_counts(mm.lesions, bins) == [(0, 1, 0), (0, 1, 1), (2, 0, 0)]
    # an edge belongs to the bin above it: 8 voxels at the edge 8
    assert bin_counts(result.lesions, parse_size_bins("8")) == [(0, 1, 0), (2, 1, 1)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("match", ["iou:0.5", "overlap"])
def test_bins_add_up_to_the_unbinned_lesion_counts(seed, match):
    rng = np.random.default_rng(seed)
    ref = boxes(rng, (24, 20, 9), 7)
    pred = boxes(rng, ref.shape, 4) | (ref & (rng.random(ref.shape) < 0.8))
    settings = {"match": "overlap", "dilation": 1, "min_size": 3} if match == "overlap" else {}
    result = evaluate(ref, pred, **settings)
    counts = bin_counts(result.lesions, parse_size_bins("2,6,20"))
    assert sum(c[0] for c in counts) == result.tp
    assert sum(c[1] for c in counts) == result.fn
    assert sum(c[2] for c in counts) == result.fp


@pytest.mark.parametrize("text", ["", "a,b", "0,10", "10,5", "10,10", "-1", "inf"])
def test_bad_size_bins_say_what_to_write(text):
    if not text:
        assert parse_size_bins(text) is None
        return
    with pytest.raises(UsageError, match="--lesion-size-bins"):
        parse_size_bins(text)


def test_the_cli_reports_detection_by_size(runner, tmp_path):
    ref, pred = cubes()
    for side, array in (("p", pred), ("g", ref)):
        (tmp_path / side).mkdir()
        write_nifti(str(tmp_path / side / "c.nii.gz"), array.astype(np.uint8), (2.0, 1.0, 1.0))
    out, table = tmp_path / "r.json", tmp_path / "l.csv"
    args = ["score", str(tmp_path / "p"), str(tmp_path / "g"), "--lesions", "--no-progress",
            "--lesion-size-bins", "5,30 mm3", "-o", str(out),
            "--lesion-table", str(table)]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Lesions by size" in result.stdout
    bins = json.loads(out.read_text())["lesion_bins"]
    assert [(b["bin"], b["lesion_tp"], b["lesion_fn"], b["lesion_fp"]) for b in bins] == [
        ("0-5", 0, 1, 0), ("5-30", 0, 1, 1), ("30+", 2, 0, 0)
    ]  # fmt: skip
    assert bins[2]["recall"] == 1.0
    assert bins[1]["precision"] == 0.0
    assert bins[2]["high"] is None  # no upper edge: JSON null
    import pandas as pd

    lesions = pd.read_csv(table)
    assert sorted(lesions["size_bin"]) == ["0-5", "30+", "30+", "30+", "30+", "5-30", "5-30"]
    case = json.loads(out.read_text())["cases"][0]
    # the missed cubes have region Dice 0, the 27-voxel cube 1; the false positive lies in the
    # 64-voxel cube's region: 2 * 64 / (64 + 64 + 8)
    assert case["lesion_region_dice"] == pytest.approx((1 + 128 / 136) / 4, abs=1e-12)


def test_size_bins_need_lesions(runner, tmp_path):
    ref, pred = cubes()
    for side, array in (("p", pred), ("g", ref)):
        (tmp_path / side).mkdir()
        write_nifti(str(tmp_path / side / "c.nii.gz"), array.astype(np.uint8))
    args = ["score", str(tmp_path / "p"), str(tmp_path / "g"), "--lesion-size-bins", "5"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "--lesion-size-bins needs --lesions" in result.output
    bad = runner.invoke(cli, [*args[:-1], "5,2", "--lesions"])
    assert bad.exit_code == 2
    assert "must increase" in bad.output
