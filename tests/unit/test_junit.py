"""The JUnit file, read back by an independent reader (junitparser), case by case."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_nifti

import dicecli
from dicecli.gate import GateSettings
from dicecli.report import write_file

junitparser = pytest.importorskip("junitparser")

NAMES = ["a&b", "<tag x=1>", 'quote"s', "plain"]


def test_junit_read_back_with_failures_errors_and_special_names(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    gt = np.zeros((4, 4, 2), np.uint8)
    gt[:2] = 1
    good = gt.copy()
    half = gt.copy()
    half[0] = 0
    preds = {"a&b": good, "<tag x=1>": half, 'quote"s': good}
    for name in NAMES:
        write_nifti(str(tmp_path / "g" / f"{name}.nii.gz"), gt)
        if name in preds:
            write_nifti(str(tmp_path / "p" / f"{name}.nii.gz"), preds[name])
    (tmp_path / "p" / "plain.nii.gz").write_bytes(b"broken")
    result = dicecli.score_cases(str(tmp_path / "p"), str(tmp_path / "g"), jobs=1)
    result = dicecli.apply_gate(result, GateSettings(fail_under=0.95, fail_case_under=0.9))
    path = str(tmp_path / "r.xml")
    write_file(result, path, "junit")

    xml = junitparser.JUnitXml.fromfile(path)
    (suite,) = list(xml)
    assert suite.name == "1"
    cases = {case.name: case for case in suite}
    assert set(cases) == {"mean dice", *NAMES}
    # half the voxels predicted: dice = 2*8/(8+16) = 2/3 < 0.9
    (failure,) = cases["<tag x=1>"].result
    assert isinstance(failure, junitparser.Failure)
    assert "0.667 < 0.900" in failure.message
    assert cases["a&b"].is_passed
    assert cases['quote"s'].is_passed
    (mean_failure,) = cases["mean dice"].result
    assert "mean dice 0.889 < 0.950" in mean_failure.message
    (error,) = cases["plain"].result
    assert isinstance(error, junitparser.Error)
    assert "plain.nii.gz" in error.message
    assert (suite.tests, suite.failures, suite.errors) == (5, 2, 1)
