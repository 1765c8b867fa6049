"""Optional peer check: surface metrics agree with MONAI's to 1e-6 relative (MONAI computes in
float32); skipped where MONAI is absent.

MONAI, like dicecli, takes the surface as the mask minus its face-connected erosion and measures
exact Euclidean distances in physical units; its Hausdorff at percentile 95 (directed=False) is the
larger of the two directed percentiles, its symmetric average surface distance pools both
directions (dicecli's assd), and surface Dice with use_subvoxels=False counts surface voxels within
the tolerance (dicecli's nsd).
"""

from __future__ import annotations

import numpy as np
import pytest

from dicecli.metrics.surface import surface_metrics, surface_stats

monai_metrics = pytest.importorskip("monai.metrics")
torch = pytest.importorskip("torch")

# MONAI warns about its own deprecated internals (get_mask_edges); not ours to fix
pytestmark = [pytest.mark.peers, pytest.mark.filterwarnings("ignore::FutureWarning")]


def one_hot(mask: np.ndarray) -> object:
    return torch.from_numpy(np.stack([~mask, mask])[None].astype(np.float32))


@pytest.mark.parametrize("seed", range(4))
def test_agrees_with_monai(seed):
    rng = np.random.default_rng(seed)
    shape, spacing = (20, 18, 9), (0.8, 0.9, 2.5)
    ref = np.zeros(shape, bool)
    ref[4:15, 3:14, 2:8] = rng.random((11, 11, 6)) < 0.9
    pred = np.roll(ref, 1, axis=1) ^ (rng.random(shape) < 0.02)
    ours = surface_metrics(surface_stats(ref, pred, spacing, tolerance=1.0))
    y_pred, y = one_hot(pred), one_hot(ref)
    hd95 = monai_metrics.compute_hausdorff_distance(
        y_pred, y, include_background=False, percentile=95, directed=False, spacing=spacing
    )
    hd = monai_metrics.compute_hausdorff_distance(
        y_pred, y, include_background=False, directed=False, spacing=spacing
    )
    assd = monai_metrics.compute_average_surface_distance(
        y_pred, y, include_background=False, symmetric=True, spacing=spacing
    )
    nsd = monai_metrics.compute_surface_dice(
        y_pred,
        y,
        class_thresholds=[1.0],
        include_background=False,
        spacing=spacing,
        use_subvoxels=False,
    )
    assert ours["hd95"] == pytest.approx(float(hd95), rel=1e-6)
    assert ours["hd"] == pytest.approx(float(hd), rel=1e-6)
    assert ours["assd"] == pytest.approx(float(assd), rel=1e-6)
    assert ours["nsd"] == pytest.approx(float(nsd), rel=1e-6)
