"""clDice and Betti-number errors: TopCoW 2024's test vectors (CoWBenchmark/TopCoW_Eval_Metrics,
``test_clDice.py`` and ``test_betti_num.py``), hand-built shapes, and the Euler characteristic
against an independent count of the voxels' cubical complex."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from conftest import write_nifti
from scipy import ndimage

from dicecli.cli import cli
from dicecli.metrics.surface import surface_metrics, surface_stats
from dicecli.metrics.topology import betti_numbers, topology_metrics, topology_stats


def metrics(ref, pred, empty=math.nan):
    return topology_metrics(topology_stats(ref.astype(bool), pred.astype(bool)), empty)


def ellipse():
    """TopCoW's ellipse (from scikit-image's skeletonize example): its skeleton is the 4 voxels
    of column 4, rows 3 to 6."""
    x, y = np.ogrid[0:9, 0:9]
    return (1.0 / 3 * (x - 4) ** 2 + (y - 4) ** 2) < 3**2


def test_topcow_ellipse_against_rods():
    rod = np.zeros((9, 9), bool)
    rod[:, 4] = True  # along the ellipse's skeleton: Tprec 4/4, Tsens 9/9
    assert metrics(ellipse(), rod)["cldice"] == 1.0
    rod = np.zeros((9, 9), bool)
    rod[4, :] = True  # across it: Tprec 1/4, Tsens 5/9 (TopCoW's test)
    tprec, tsens = 1 / 4, 5 / 9
    expected = 2 * tprec * tsens / (tprec + tsens)
    assert metrics(ellipse(), rod)["cldice"] == pytest.approx(expected, abs=1e-12)
    assert metrics(rod, ellipse())["cldice"] == pytest.approx(expected, abs=1e-12)


def donut(shape=(5, 7, 9)):
    """A solid block with a square tunnel through it along the first axis: b = (1, 1, 0)."""
    mask = np.zeros(shape, bool)
    mask[:, 1:-1, 1:-1] = True
    mask[:, 3:-3, 3:-3] = False
    return mask


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        (np.zeros((42, 42, 42), bool), (0, 0, 0)),  # TopCoW test_no_betti
        (np.ones((42, 42, 42), bool), (1, 0, 0)),  # test_one_betti: touching every border
        (np.ones((2, 2, 2), bool), (1, 0, 0)),  # test_singleBlob
        (np.ones((2, 2, 2), bool) & ~np.eye(8, dtype=bool)[0].reshape(2, 2, 2), (1, 0, 0)),
        (np.array([[[1, 0], [0, 0]], [[0, 0], [0, 1]]], bool), (1, 0, 0)),  # corners: 26-connected
        (np.array([[[1, 1], [0, 0]], [[0, 0], [0, 0]], [[1, 1], [0, 0]]], bool), (2, 0, 0)),
        (donut(), (1, 1, 0)),  # test_donut
        (np.pad(np.ones((4, 4, 4), bool), 1) & ~np.pad(np.ones((2, 2, 2), bool), 2), (1, 0, 1)),
    ],
)
def test_betti_numbers_of_known_shapes(mask, expected):
    assert betti_numbers(mask) == expected


def test_two_tunnels_and_a_2d_ring():
    two = np.ones((3, 9, 5), bool)
    two[:, 2, 2] = two[:, 6, 2] = False  # two holes through a slab
    assert betti_numbers(two) == (1, 2, 0)
    ring = np.ones((5, 5), bool)
    ring[2, 2] = False
    assert betti_numbers(ring) == (1, 1, 0)
    assert betti_numbers(np.eye(4, dtype=bool)) == (1, 0, 0)  # 8-connected diagonal


def cubical_euler(mask):
    """chi of the union of the closed voxels: every cell (vertex, edge, face, cube) of the grid
    that touches a foreground voxel counted once, V - E + F - C -- independent of scikit-image.
    A cell spans the axes in ``free`` (there it is one voxel wide) and sits on a grid plane
    along the others, between two voxels: it is present when any voxel around it is."""
    padded = np.pad(mask, 1)  # index i + 1 is voxel i; grid plane v lies between v - 1 and v
    n = mask.shape
    chi = 0
    for k in range(mask.ndim + 1):
        for free in itertools.combinations(range(mask.ndim), k):
            fixed = [a for a in range(mask.ndim) if a not in free]
            present = False
            for shift in itertools.product((0, 1), repeat=len(fixed)):
                index = [slice(1, n[a] + 1) for a in range(mask.ndim)]
                for a, s in zip(fixed, shift, strict=True):
                    index[a] = slice(s, n[a] + 1 + s)
                present = present | padded[tuple(index)]
            chi += (-1) ** k * int(np.count_nonzero(present))
    return chi


@pytest.mark.parametrize("seed", range(10))
def test_betti_numbers_agree_with_the_cubical_euler_characteristic(seed):
    rng = np.random.default_rng(seed)
    shape = (7, 8, 6) if seed % 2 else (11, 13)
    mask = rng.random(shape) < 0.45
    b0, b1, b2 = betti_numbers(mask)
    assert b0 == ndimage.label(mask, np.ones((3,) * mask.ndim))[1]
    assert b0 - b1 + b2 == cubical_euler(mask)


def test_betti_errors_of_topcows_eight_cubes():
    """test_betti_num_err_dict_e2e: eight 4x4x4 octants labelled 1..8; in the prediction
    label 2 is hollow (a 2x2x2 cavity), label 4 missing, labels 6 and 8 solid donuts."""
    gt = np.zeros((8, 8, 8), np.uint8)
    for value, (i, j, k) in enumerate(itertools.product((0, 4), repeat=3), start=1):
        gt[i : i + 4, j : j + 4, k : k + 4] = value
    pred = gt.copy()
    corner = {v: (i, j, k) for v, (i, j, k) in enumerate(itertools.product((0, 4), repeat=3), 1)}
    i, j, k = corner[2]
    pred[i + 1 : i + 3, j + 1 : j + 3, k + 1 : k + 3] = 0
    pred[pred == 4] = 0
    for v in (6, 8):
        i, j, k = corner[v]
        pred[i : i + 4, j + 1 : j + 3, k + 1 : k + 3] = 0
    errors = {v: metrics(gt == v, pred == v) for v in range(1, 9)}
    assert {v: e["betti0_error"] for v, e in errors.items()} == {
        1: 0, 2: 0, 3: 0, 4: 1, 5: 0, 6: 0, 7: 0, 8: 0
    }  # fmt: skip
    assert {v: e["betti1_error"] for v, e in errors.items()} == {
        1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1, 7: 0, 8: 1
    }  # fmt: skip
    assert betti_numbers(pred == 2) == (1, 0, 1)


def test_empty_masks():
    empty = np.zeros((6, 6, 6), bool)
    blob = np.zeros_like(empty)
    blob[1:3, 1:3, 1:3] = blob[4:6, 4:6, 4:6] = True
    both = metrics(empty, empty, empty=1.0)
    assert both == {"cldice": 1.0, "betti0_error": 0.0, "betti1_error": 0.0}
    assert math.isnan(metrics(empty, empty)["cldice"])
    one = metrics(blob, empty)
    assert one == {"cldice": 0.0, "betti0_error": 2.0, "betti1_error": 0.0}
    stats = surface_stats(empty, empty, (1.0, 1.0, 1.0), topology=True)
    assert surface_metrics(stats, empty_nsd=1.0)["cldice"] == 1.0


def test_the_cli_scores_topology_per_label_and_merged(runner, tmp_path):
    ref = np.zeros((24, 24, 10), np.uint8)
    ref[2:22, 4:7, 2:7] = 1  # a vessel (3 x 5 voxels across: odd, so thinning keeps a line)
    ref[2:22, 14:17, 2:7] = 2  # another
    ref[3:5, 7:14, 2:7] = ref[12:15, 7:14, 2:7] = 1  # bridges: one loop in the merged mask
    pred = ref.copy()
    pred[8:10, 14:17, 2:7] = 0  # the second vessel cut in two between the bridges
    for side, array in (("p", pred), ("g", ref)):
        (tmp_path / side).mkdir()
        write_nifti(str(tmp_path / side / "c.nii.gz"), array, (0.5, 0.5, 1.0))
    out = tmp_path / "r.json"
    result = runner.invoke(cli, ["score", str(tmp_path / "p"), str(tmp_path / "g"),
                                 "--labels", "a=1,b=2,both=1+2", "--no-progress",
                                 "--metrics", "cldice,betti0_error,betti1_error",
                                 "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["label"]: r for r in json.loads(out.read_text())["cases"]}
    for label, values in (("a", (1,)), ("b", (2,)), ("both", (1, 2))):
        expected = metrics(np.isin(ref, values), np.isin(pred, values))
        assert {m: rows[label][m] for m in expected} == pytest.approx(expected, abs=1e-12)
    assert rows["b"]["betti0_error"] == 1.0
    assert rows["both"]["betti1_error"] == 1.0  # the cut opens the loop
    assert rows["a"]["cldice"] == 1.0


def test_an_erased_skeleton_makes_cldice_undefined_not_zero(runner, tmp_path):
    cube = np.zeros((14, 14, 14), bool)
    cube[3:11, 3:11, 3:11] = True  # scikit-image's 3-D thinning erases an 8x8x8 cube whole
    assert not topology_stats(cube, cube).skeleton_ref
    assert math.isnan(metrics(cube, cube)["cldice"])  # TopCoW's script would give 0
    assert metrics(cube, cube)["betti0_error"] == 0.0
    for side in ("p", "g"):
        (tmp_path / side).mkdir()
        write_nifti(str(tmp_path / side / "c.nii.gz"), cube.astype(np.uint8))
    result = runner.invoke(cli, ["score", str(tmp_path / "p"), str(tmp_path / "g"),
                                 "--metrics", "cldice", "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cldice is NaN for 1 structure(s) whose skeleton the thinning erases" in result.output
