"""The formats the same users keep their masks in, read through the libraries that write them:
FreeSurfer MGH/MGZ and MINC (nibabel), GIPL and Analyze (SimpleITK), NumPy .npy/.npz (no
geometry, like PNG). Each scores exactly against the NIfTI of the same voxels, with NIfTI's
geometry rules where the format has geometry; and the label tables that name them."""

from __future__ import annotations

import csv
import io
import os

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from conftest import brute_counts

import dicecli
from dicecli.cli import cli
from dicecli.errors import GeometryError, MaskReadError

AFFINE = np.array(
    [[-1.2, 0.0, 0.0, 10.0], [0.0, -1.1, 0.0, -5.0], [0.0, 0.0, 2.5, 3.0], [0, 0, 0, 1.0]]
)


@pytest.fixture
def labels(rng) -> np.ndarray:
    out = np.zeros((9, 7, 5), np.uint8)
    out[1:5, 1:6, 1:4] = 2
    out[6:8, 2:5, 0:5] = 17
    out[rng.random(out.shape) < 0.05] = 41
    return out


@pytest.fixture
def reference(tmp_path, labels) -> str:
    path = str(tmp_path / "ref.nii.gz")
    nib.save(nib.Nifti1Image(labels, AFFINE), path)
    return path


def csv_rows(result) -> dict[str, dict[str, str]]:
    assert result.exit_code == 0, result.output
    return {r["label"]: r for r in csv.DictReader(io.StringIO(result.stdout))}


def write_mgz(path, labels):
    nib.save(nib.MGHImage(labels.astype(np.int32), AFFINE), path)


def write_sitk(path, labels, reference):
    image = sitk.ReadImage(reference)  # the NIfTI's geometry, as ITK reads it
    out = sitk.GetImageFromArray(np.ascontiguousarray(labels.T))
    out.CopyInformation(image)
    sitk.WriteImage(out, path)


@pytest.mark.parametrize(
    "name", ["aseg.mgz", "aseg.mgh", "ref.gipl", "ref.gipl.gz", "ref.npy", "ref.npz"]
)
def test_each_format_scores_exactly_against_the_nifti_of_its_voxels(
    runner, tmp_path, labels, reference, name
):
    path = str(tmp_path / name)
    if name.startswith("aseg"):
        write_mgz(path, labels)
    elif ".gipl" in name:
        write_sitk(path, labels, reference)
    elif name.endswith(".npy"):
        np.save(path, labels)
    else:
        np.savez_compressed(path, mask=labels)
    mask = dicecli.load_mask(path)
    np.testing.assert_array_equal(np.asarray(mask.array), labels)
    if mask.has_geometry:  # NIfTI's geometry rules: the same grid as the NIfTI
        ref = dicecli.load_mask(reference)
        assert mask.spacing == pytest.approx(ref.spacing)
        assert mask.origin == pytest.approx(ref.origin)
        assert mask.direction == pytest.approx(ref.direction)
    rows = csv_rows(runner.invoke(cli, ["score", path, reference, "--format", "csv", "-j", "1"]))
    assert set(rows) == {"2", "17", "41"}
    for value, row in rows.items():
        expected = brute_counts(labels, labels, (int(value),))
        assert tuple(int(row[k]) for k in ("tp", "fp", "fn", "tn")) == expected
    assert mask.has_geometry == (not name.endswith((".npy", ".npz")))


def test_mgz_moved_is_a_geometry_error(tmp_path, labels, reference):
    path = str(tmp_path / "moved.mgz")
    moved = AFFINE.copy()
    moved[0, 3] += 5
    nib.save(nib.MGHImage(labels.astype(np.int32), moved), path)
    with pytest.raises(GeometryError, match="origin"):
        dicecli.score_pair(path, reference)


def test_analyze_hdr_img_reads_its_voxels_quietly(tmp_path, labels, capfd):
    path = str(tmp_path / "old.hdr")
    nib.save(nib.AnalyzeImage(labels, AFFINE), path)
    assert os.path.exists(tmp_path / "old.img")
    mask = dicecli.load_mask(path)
    np.testing.assert_array_equal(np.asarray(mask.array), labels)
    assert mask.spacing == pytest.approx((1.2, 1.1, 2.5))
    assert "deprecated" not in capfd.readouterr().err  # ITK's Analyze notice is not shown


def test_aseg_named_through_a_freesurfer_colour_table(runner, tmp_path, labels):
    aseg = str(tmp_path / "aseg.mgz")
    write_mgz(aseg, labels)
    lut = tmp_path / "FreeSurferColorLUT.txt"
    lut.write_text(
        "#$Id: FreeSurferColorLUT.txt\n\n#No. Label Name:        R   G   B   A\n\n"
        "0   Unknown                  0   0   0   0\n"
        "2   Left-Cerebral-White-Matter 245 245 245 0\n"
        "17  Left-Hippocampus         220 216  20 0\n"
        "41  Right-Cerebral-White-Matter 245 245 245 0\n"
    )
    rows = csv_rows(
        runner.invoke(cli, ["score", aseg, aseg, "--label-table", str(lut), "--format", "csv"])
    )
    assert list(rows) == [
        "Left-Cerebral-White-Matter",
        "Left-Hippocampus",
        "Right-Cerebral-White-Matter",
    ]
    assert int(rows["Left-Hippocampus"]["tp"]) == int((labels == 17).sum())
    info = runner.invoke(cli, ["info", aseg, "--label-table", str(lut)])
    assert "structure     17 Left-Hippocampus:" in info.stdout


def test_minc_files_nibabel_ships_read_with_its_affine():
    folder = os.path.join(os.path.dirname(nib.__file__), "tests", "data")
    for name in ("minc1_1_scale.mnc", "minc2_1_scale.mnc"):
        path = os.path.join(folder, name)
        mask = dicecli.load_mask(path)
        img = nib.load(path)
        np.testing.assert_allclose(np.asarray(mask.array), np.asarray(img.dataobj))
        zooms = np.linalg.norm(img.affine[:3, :3], axis=0)
        assert mask.spacing == pytest.approx(tuple(zooms))


def write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda p: np.save(p, np.array([{"a": 1}], dtype=object)),
            "Python objects",
            id="object-npy",
        ),
        pytest.param(
            lambda p: np.savez(p.replace(".npy", ".npz"), a=np.zeros(3), b=np.ones(3)),
            "holds 2 arrays",
            id="two-arrays",
        ),
        pytest.param(lambda p: np.save(p, np.zeros((2, 3, 4, 5))), "4-D array", id="4d"),
        pytest.param(
            lambda p: write_bytes(p, b"\x93NUMPY garbage"), "not a readable NumPy", id="garbage"
        ),
    ],
)
def test_bad_numpy_files_are_one_line_errors(tmp_path, make, message):
    path = str(tmp_path / "m.npy")
    make(path)
    if not os.path.exists(path):
        path = path.replace(".npy", ".npz")
    with pytest.raises(MaskReadError, match=message):
        dicecli.load_mask(path)


def test_max_voxels_is_checked_against_the_npy_header_before_reading(tmp_path):
    path = str(tmp_path / "big.npy")
    np.save(path, np.zeros((40, 40, 40), np.uint8))
    with pytest.raises(MaskReadError, match="over the --max-voxels limit"):
        dicecli.load_mask(path, dicecli.io.ReadOptions(max_voxels=1000))
