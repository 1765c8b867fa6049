"""Surfel surfaces (``--surface surfel``) without the peer: surface-distance's published
example, hand-computed element sizes, and the CLI option end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import write_nifti

from dicecli.cli import cli
from dicecli.metrics.surface import surface_metrics, surface_stats
from dicecli.metrics.surfels import block_codes, element_sizes, weighted_percentile


def test_surface_distance_readme_example():
    """surface-distance 0.1's README: 100³, reference [0:50], prediction [0:51] on the first
    axis, spacing (2, 1, 1) mm -> surface Dice at 1 mm 0.836, Hausdorff 2.0 mm."""
    ref = np.zeros((100, 100, 100), bool)
    ref[0:50] = True
    pred = np.zeros_like(ref)
    pred[0:51] = True
    ours = surface_metrics(surface_stats(ref, pred, (2.0, 1.0, 1.0), tolerance=1.0, surfel=True))
    assert round(ours["nsd"], 3) == 0.836
    assert ours["hd"] == 2.0


def test_one_voxel_has_the_area_of_its_marching_cubes_octahedron():
    one = np.zeros((3, 3, 3), bool)
    one[1, 1, 1] = True
    stats = surface_stats(one, one, (1.0, 1.0, 1.0), surfel=True)
    # eight corner triangles with sides of sqrt(1/2): 8 * sqrt(3)/4 * 1/2
    assert stats.n_ref == pytest.approx(math.sqrt(3), abs=1e-12)
    flat = np.zeros((3, 3), bool)
    flat[1, 1] = True
    # four segments of sqrt(0.5² + 0.5²), on 2 x 3 mm pixels sqrt(1² + 1.5²)
    assert surface_stats(flat, flat, (2.0, 3.0), surfel=True).n_ref == pytest.approx(
        4 * math.hypot(1.0, 1.5), abs=1e-12
    )


def test_a_flat_face_has_the_area_of_its_pixels_on_the_spacing():
    sizes = element_sizes((2.0, 0.5, 3.0))
    half = np.zeros((2, 2, 2), bool)
    half[0] = True  # a block split across the first axis: a face of 0.5 x 3 mm²
    assert sizes[block_codes(half)[0, 0, 0]] == pytest.approx(1.5, abs=1e-12)
    assert sizes[0] == sizes[255] == 0.0
    codes = np.arange(256)
    assert sizes == pytest.approx(sizes[255 - codes], abs=1e-12)  # a block and its complement


def test_weighted_percentile_takes_the_first_distance_reaching_the_share():
    d = np.array([3.0, 1.0, 2.0, 4.0])
    w = np.array([1.0, 5.0, 3.0, 1.0])  # sorted: 1 (0.5), 2 (0.8), 3 (0.9), 4 (1.0)
    assert weighted_percentile(d, w, 50) == 1.0
    assert weighted_percentile(d, w, 80) == 2.0
    assert weighted_percentile(d, w, 85) == 3.0
    assert weighted_percentile(d, w, 100) == 4.0


def test_empty_and_one_sided_masks_follow_the_empty_rules():
    empty = np.zeros((5, 5, 5), bool)
    blob = empty.copy()
    blob[1:3, 1:3, 1:3] = True
    one = surface_metrics(surface_stats(blob, empty, (1.0, 1.0, 1.0), surfel=True))
    assert math.isnan(one["hd95"])
    assert one["nsd"] == 0.0
    both = surface_metrics(surface_stats(empty, empty, (1.0,) * 3, surfel=True), empty_nsd=1.0)
    assert both["nsd"] == 1.0


def test_the_cli_scores_surfels(runner, tmp_path):
    rng = np.random.default_rng(5)
    ref = np.zeros((30, 28, 10), np.uint8)
    ref[5:25, 6:22, 2:8] = 1
    ref[8:14, 8:14, 3:6] = 2
    pred = np.roll(ref, 1, axis=0)
    pred[rng.random(ref.shape) < 0.01] = 1
    spacing = (0.8, 0.8, 2.5)
    for side, array in (("p", pred), ("g", ref)):
        (tmp_path / side).mkdir()
        write_nifti(str(tmp_path / side / "c.nii.gz"), array, spacing)
    out = tmp_path / "r.json"
    base = ["score", str(tmp_path / "p"), str(tmp_path / "g"), "--no-progress",
            "--metrics", "hd,hd95,assd,masd,nsd", "-o", str(out)]  # fmt: skip
    assert runner.invoke(cli, [*base, "--surface", "surfel"]).exit_code == 0
    surfel = {r["label"]: r for r in json.loads(out.read_text())["cases"]}
    assert runner.invoke(cli, base).exit_code == 0
    voxel = {r["label"]: r for r in json.loads(out.read_text())["cases"]}
    stored = tuple(float(np.float32(v)) for v in spacing)  # NIfTI keeps float32 spacing
    for value in (1, 2):
        expected = surface_metrics(
            surface_stats(ref == value, pred == value, stored, tolerance=1.0, surfel=True)
        )
        for m in ("hd", "hd95", "assd", "masd", "nsd"):
            assert surfel[str(value)][m] == pytest.approx(expected[m], abs=1e-12)
    assert surfel["1"]["assd"] != voxel["1"]["assd"]
    assert json.loads(out.read_text())["options"]["surface"] == "voxel"
