"""Optional peer check: how and why DeepMind's surface-distance differs from dicecli (skipped
where the `surface-distance` package is absent).

DeepMind places surface elements ("surfels") on a grid shifted by half a voxel, measures distances
between surfels, and weights every distance by its surfel's area. dicecli, like MONAI and Metrics
Reloaded's default, measures between the centres of surface voxels and counts each voxel once.
Both agree on identical masks; on real boundaries the weighting moves the averages and, above all,
the percentiles (HD95) -- this test pins those differences down.
"""

from __future__ import annotations

import numpy as np
import pytest

from dicecli.metrics.surface import surface_metrics, surface_stats

sd = pytest.importorskip("surface_distance")

# the package uses scipy.ndimage.filters, which scipy deprecates: its warning, not ours
pytestmark = [pytest.mark.peers, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SPACING = (0.8, 0.8, 2.5)


@pytest.fixture
def masks():
    rng = np.random.default_rng(0)
    ref = np.zeros((40, 36, 14), bool)
    ref[8:30, 6:28, 3:11] = rng.random((22, 22, 8)) < 0.95
    pred = np.roll(ref, 1, axis=0) ^ (rng.random(ref.shape) < 0.01)
    return ref, pred


def test_identical_masks_agree(masks):
    ref, _ = masks
    d = sd.compute_surface_distances(ref, ref, SPACING)
    ours = surface_metrics(surface_stats(ref, ref, SPACING, tolerance=1.0))
    assert sd.compute_robust_hausdorff(d, 95) == ours["hd95"] == 0.0
    assert sd.compute_surface_dice_at_tolerance(d, 1.0) == ours["nsd"] == 1.0


def test_deepmind_weights_surfel_distances_by_area(masks):
    ref, pred = masks
    d = sd.compute_surface_distances(ref, pred, SPACING)
    to_pred, areas = d["distances_gt_to_pred"], d["surfel_areas_gt"]
    average, _ = sd.compute_average_surface_distance(d)
    # the account: its average is the area-weighted mean of distances between surfels ...
    assert average == pytest.approx(np.sum(to_pred * areas) / np.sum(areas))
    assert average != pytest.approx(float(np.mean(to_pred)), rel=0.05)  # ... and weighting matters
    stats = surface_stats(ref, pred, SPACING, tolerance=1.0)
    assert len(to_pred) != stats.n_ref  # surfels are not surface voxels
    ours = surface_metrics(stats)
    theirs_assd = (
        average * areas.sum()
        + sd.compute_average_surface_distance(d)[1] * d["surfel_areas_pred"].sum()
    ) / (areas.sum() + d["surfel_areas_pred"].sum())
    # same magnitude, not the same number (README, "Against the peers", quotes these)
    assert ours["assd"] == pytest.approx(theirs_assd, rel=0.25)
    assert ours["assd"] != pytest.approx(theirs_assd, rel=0.01)
    assert sd.compute_robust_hausdorff(d, 95) > ours["hd95"]


def test_surfel_sizes_equal_deepminds_tables():
    from dicecli.metrics.surfels import element_sizes

    for spacing in ((1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (0.7, 1.3, 2.9)):
        theirs = sd.lookup_tables.create_table_neighbour_code_to_surface_area(spacing)
        assert element_sizes(spacing) == pytest.approx(theirs, abs=1e-12)
    for spacing in ((1.0, 1.0), (0.6, 2.2)):
        theirs = sd.lookup_tables.create_table_neighbour_code_to_contour_length(spacing)
        assert element_sizes(spacing) == pytest.approx(theirs, abs=1e-12)


def deepmind(ref, pred, spacing, tolerance):
    d = sd.compute_surface_distances(ref, pred, spacing)
    rp, pr = sd.compute_average_surface_distance(d)
    a_r, a_p = d["surfel_areas_gt"].sum(), d["surfel_areas_pred"].sum()
    return {
        "hd": sd.compute_robust_hausdorff(d, 100),
        "hd95": sd.compute_robust_hausdorff(d, 95),
        "assd": (rp * a_r + pr * a_p) / (a_r + a_p),
        "masd": (rp + pr) / 2,
        "nsd": sd.compute_surface_dice_at_tolerance(d, tolerance),
    }


@pytest.mark.parametrize("seed", range(6))
def test_surfel_metrics_equal_deepminds(seed):
    rng = np.random.default_rng(seed)
    three = seed % 3 != 2
    shape = (30, 26, 12) if three else (48, 40)
    spacing = (0.8, 0.8, 2.5) if three else (0.7, 1.1)
    ref = np.zeros(shape, bool)
    inner = tuple(slice(4, n - 4) for n in shape)
    ref[inner] = rng.random(ref[inner].shape) < 0.9
    pred = np.roll(ref, int(rng.integers(-2, 3)), axis=0) ^ (rng.random(shape) < 0.02)
    if seed == 0:
        pred[0, :] = True  # touching the image border
    ours = surface_metrics(surface_stats(ref, pred, spacing, tolerance=1.5, surfel=True))
    theirs = deepmind(ref, pred, spacing, 1.5)
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, abs=1e-9), name
