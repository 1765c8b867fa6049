"""Shared fixtures: a CliRunner, and mask writers that use the real libraries."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import settings

# Property tests never depend on luck: the same examples on every run and every machine
# (derandomize), no example database carried between runs. HYPOTHESIS_PROFILE=explore draws
# fresh examples when hunting for new failures; pin what it finds with @example.
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=2000, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))

from make_examples import write_dicom_series, write_nifti, write_png  # noqa: E402

__all__ = ["ROOT", "write_dicom_series", "write_nifti", "write_png"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def case_folders(tmp_path: object) -> Callable[..., tuple[str, str]]:
    """Write {case: (pred, gt)} arrays as NIfTI into tmp/pred and tmp/gt; returns both folders."""

    def make(
        cases: dict[str, tuple[np.ndarray, np.ndarray]],
        spacing=(1.0, 1.0, 1.0),
        suffix: str = ".nii.gz",
    ) -> tuple[str, str]:
        pred_dir = os.path.join(str(tmp_path), "pred")
        gt_dir = os.path.join(str(tmp_path), "gt")
        os.makedirs(pred_dir, exist_ok=True)
        os.makedirs(gt_dir, exist_ok=True)
        for case, (pred, gt) in cases.items():
            if pred is not None:
                write_nifti(os.path.join(pred_dir, case + suffix), pred, spacing)
            write_nifti(os.path.join(gt_dir, case + suffix), gt, spacing)
        return pred_dir, gt_dir

    return make


def brute_counts(
    gt: np.ndarray, pred: np.ndarray, values: tuple[int, ...], ignore: int | None = None
) -> tuple[int, int, int, int]:
    """TP/FP/FN/TN by boolean masks, the obvious way: the independent reference."""
    keep = np.ones(gt.shape, bool) if ignore is None else gt != ignore
    g = np.isin(gt, values) & keep
    p = np.isin(pred, values) & keep
    tp = int(np.sum(g & p))
    fp = int(np.sum(~g & p))
    fn = int(np.sum(g & ~p))
    tn = int(np.sum(~g & ~p & keep))
    return tp, fp, fn, tn


@pytest.fixture(autouse=True)
def _fresh_backend_cache():
    """Backends are cached per process; tests swap CuPy stand-ins, so start each test afresh."""
    from dicecli import xp

    xp._CACHE.clear()
    yield
    xp._CACHE.clear()


#: panoptica pins older numpy, pandas and rich than dicecli uses: its peer tests run it in a
#: venv of its own, named by this variable (``tests/peers/*.py`` are its scripts)
PANOPTICA_PYTHON = os.environ.get("DICECLI_PANOPTICA_PYTHON")
PANOPTICA_MARKS = [
    pytest.mark.peers,
    pytest.mark.skipif(
        not PANOPTICA_PYTHON, reason="set DICECLI_PANOPTICA_PYTHON to a Python with panoptica"
    ),
]


def run_panoptica(script: str, cases: dict[str, tuple[np.ndarray, np.ndarray]], folder) -> dict:
    """Save (ref, pred) pairs to an .npz, run ``tests/peers/<script>`` with panoptica's Python
    on it and return the JSON object it prints last."""
    import json
    import subprocess

    path = os.path.join(str(folder), "cases.npz")
    arrays = {
        f"{n}_{side}": a for n, (r, p) in cases.items() for side, a in (("ref", r), ("pred", p))
    }
    np.savez(path, **arrays)
    peer = os.path.join(ROOT, "tests", "peers", script)
    done = subprocess.run(
        [str(PANOPTICA_PYTHON), peer, path], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
