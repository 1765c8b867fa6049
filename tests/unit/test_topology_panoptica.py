"""Optional peer test: clDice equals panoptica's clDSC on tubes and blobs, 2-D and 3-D.

panoptica pins older numpy, pandas and rich than dicecli uses, so it runs in a venv of its own:

    python3 -m venv /tmp/panvenv && /tmp/panvenv/bin/pip install panoptica
    DICECLI_PANOPTICA_PYTHON=/tmp/panvenv/bin/python pytest -m peers
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PANOPTICA_MARKS, run_panoptica
from scipy import ndimage

from dicecli.metrics.surface import surface_metrics, surface_stats

pytestmark = PANOPTICA_MARKS


def cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Random smooth tubes (vessels) and blobs, with a prediction that is shifted, thinned or
    cut; some touch the image border."""
    rng = np.random.default_rng(2024)
    out = {}
    for k in range(10):
        shape = (40, 36, 20) if k % 2 else (64, 56)
        field = ndimage.gaussian_filter(rng.random(shape), 2.5)
        ref = np.abs(field - np.median(field)) < 0.01 + 0.004 * (k % 3)  # thin winding tubes
        pred = np.roll(ref, int(rng.integers(-1, 2)), axis=0)
        pred &= rng.random(shape) > 0.05 * (k % 4)
        if k % 3 == 0:
            pred = ndimage.binary_dilation(pred)
        out[f"tubes{k}"] = (ref, pred)
    return out


def test_cldice_equals_panopticas_cldsc(tmp_path):
    data = cases()
    peer = run_panoptica("panoptica_cldice.py", data, tmp_path)
    for name, (ref, pred) in data.items():
        stats = surface_stats(ref, pred, (1.0,) * ref.ndim, topology=True)
        assert surface_metrics(stats)["cldice"] == pytest.approx(peer[name], abs=1e-12), name
