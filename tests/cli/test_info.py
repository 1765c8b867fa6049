"""``dicecli info``."""

from __future__ import annotations

import numpy as np
from conftest import write_nifti, write_png

from dicecli.cli import cli


def test_info_lists_labels_with_volumes(runner, tmp_path):
    vol = np.zeros((10, 10, 4), np.uint8)
    vol[:2, :5, :1] = 3
    path = write_nifti(str(tmp_path / "a.nii.gz"), vol, (1.0, 1.0, 2.0))
    png = write_png(str(tmp_path / "b.png"), np.array([[0, 255], [255, 255]], np.uint8))
    result = runner.invoke(cli, ["info", path, png])
    assert result.exit_code == 0, result.output
    assert "shape 10 x 10 x 4  dtype uint8  spacing 1 x 1 x 2 mm  orientation RAS" in result.stdout
    assert "label      3:           10 voxels  0.020 mL" in result.stdout
    assert "label      1:            3 voxels" in result.stdout


def test_info_bad_file_exits_3_but_describes_the_others(runner, tmp_path):
    good = write_nifti(str(tmp_path / "a.nii.gz"), np.zeros((2, 2, 2), np.uint8))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not png")
    result = runner.invoke(cli, ["info", str(bad), good])
    assert result.exit_code == 3
    assert "bad.png" in result.stderr
    assert "a.nii.gz" in result.stdout
