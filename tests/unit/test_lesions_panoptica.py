"""Optional peer test: lesion counts and RQ/SQ/PQ equal panoptica's under its defaults.

panoptica pins older numpy, pandas and rich than dicecli uses, so it runs in a venv of its own:

    python3 -m venv /tmp/panvenv && /tmp/panvenv/bin/pip install panoptica
    DICECLI_PANOPTICA_PYTHON=/tmp/panvenv/bin/python pytest -m peers
"""

from __future__ import annotations

import glob
import os

import nibabel as nib
import numpy as np
import pytest
from conftest import PANOPTICA_MARKS, ROOT, run_panoptica

from dicecli.metrics.lesions import LesionSettings, evaluate_lesions

pytestmark = PANOPTICA_MARKS


def cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Synthetic cases with missed, spurious, split and merged lesions, and examples/lesions."""
    rng = np.random.default_rng(2023)
    out = {}
    for k in range(12):
        ref = np.zeros((48, 48, 24), bool)
        for _ in range(rng.integers(3, 12)):
            lo = rng.integers(2, 40, 3) * (1, 1, 0.5)
            size = rng.integers(1, 7, 3)
            a = lo.astype(int)
            ref[a[0] : a[0] + size[0], a[1] : a[1] + size[1], a[2] : a[2] + size[2]] = True
        pred = np.roll(ref, int(rng.integers(-1, 2)), axis=int(rng.integers(0, 3)))
        pred &= rng.random(ref.shape) > 0.1  # holes: some lesions split
        spurious = rng.integers(4, 44, (rng.integers(0, 4), 3)) * (1, 1, 0.5)
        for x, y, z in spurious.astype(int):
            pred[x : x + 2, y : y + 2, z : z + 2] = True
        out[f"synthetic{k}"] = (ref, pred)
    for gt in sorted(glob.glob(os.path.join(ROOT, "examples", "lesions", "gt", "*.nii.gz"))):
        pred = gt.replace(os.sep + "gt" + os.sep, os.sep + "pred" + os.sep)
        name = os.path.basename(gt).split(".")[0]
        out[name] = (
            np.asarray(nib.load(gt).dataobj) > 0,
            np.asarray(nib.load(pred).dataobj) > 0,
        )
    return out


def test_counts_and_quality_equal_panoptica(tmp_path):
    data = cases()
    peer = run_panoptica("panoptica_run.py", data, tmp_path)
    grid = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
    for name, (ref, pred) in data.items():
        ours = evaluate_lesions(ref, pred, *grid, LesionSettings())
        theirs = peer[name]
        assert (ours.tp, ours.fp, ours.fn) == (theirs["tp"], theirs["fp"], theirs["fn"]), name
        for ours_value, key in ((ours.f1, "rq"), (ours.sq, "sq"), (ours.pq, "pq")):
            assert ours_value == pytest.approx(theirs[key], abs=1e-9), (name, key)
