"""DICOM SEG and RT Structure Sets written by highdicom/pydicom over a synthetic CT series, read
back and scored against the label maps they were made from."""

from __future__ import annotations

import math
import os
import shutil

import nibabel as nib
import numpy as np
import pydicom
import pytest
from conftest import ROOT, write_dicom_series, write_nifti
from make_examples import write_rtstruct, write_seg

import dicecli
from dicecli.cli import cli
from dicecli.errors import MaskReadError, UnsupportedFormatError

pytest.importorskip("highdicom")

SPACING, ORIGIN = (0.7, 0.8, 2.0), (-12.0, 5.0, 40.0)
SHAPE = (24, 20, 6)


@pytest.fixture
def study(tmp_path, rng):
    """A CT series in study/ct, and two overlapping segments (x, y, z, 2)."""
    ct = rng.integers(-200, 200, SHAPE).astype(np.int16)
    write_dicom_series(str(tmp_path / "study" / "ct"), ct - ct.min(), SPACING, ORIGIN)
    segments = np.zeros((*SHAPE, 2), bool)
    segments[3:12, 4:14, 1:4, 0] = True
    segments[8:20, 9:17, 2:5, 1] = True  # overlaps the first
    return tmp_path / "study", segments


def nifti_like_series(path, array):
    """A NIfTI on the series grid (identity DICOM orientation: LPS axes, RAS affine flips x, y)."""
    affine = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])
    affine[:3, 3] = (-ORIGIN[0], -ORIGIN[1], ORIGIN[2])
    nib.save(nib.Nifti1Image(array, affine), path)
    return path


def test_binary_seg_with_overlapping_segments_scores_each_segment(study, tmp_path):
    folder, segments = study
    seg = write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"])
    assert pydicom.dcmread(seg).NumberOfFrames < SHAPE[2] * 2  # empty frames were left out
    mask = dicecli.load_mask(seg)
    assert [(s.number, s.label) for s in mask.segments] == [(1, "Liver"), (2, "Tumor")]
    for i in range(2):
        np.testing.assert_array_equal(mask.segments[i].array, segments[..., i])
    # a label map prediction: where the segments overlap it can only say one label (1)
    labels = np.where(segments[..., 0], 1, np.where(segments[..., 1], 2, 0)).astype(np.uint8)
    pred = nifti_like_series(str(tmp_path / "pred.nii.gz"), labels)
    result = dicecli.score_pair(pred, seg)
    rows = result.cases.set_index("label")
    assert rows.loc["Liver", "dice"] == 1.0
    s2, p2 = segments[..., 1], labels == 2
    expected = 2 * np.sum(s2 & p2) / (s2.sum() + p2.sum())
    assert rows.loc["Tumor", "dice"] == pytest.approx(expected)
    assert rows.loc["Tumor", "tp"] == np.sum(s2 & p2)
    assert rows.loc["Tumor", "patient_id"] == "DICECLI-EXAMPLE"
    same = dicecli.score_pair(seg, seg)  # a SEG prediction: segment against segment
    assert list(same.cases.dice) == [1.0, 1.0]


@pytest.mark.parametrize("kind", ["FRACTIONAL", "LABELMAP"])
def test_fractional_and_labelmap_seg(study, tmp_path, kind):
    folder, segments = study
    if kind == "LABELMAP":
        segments[..., 1] &= ~segments[..., 0]  # a label map cannot overlap
        data = segments
    else:
        data = segments * 0.8
        data[0:2, 0:2, 0, 0] = 0.3  # below the 0.5 default threshold
    seg = write_seg(str(folder / "seg.dcm"), str(folder / "ct"), data, ["Liver", "Tumor"], kind)
    mask = dicecli.load_mask(seg)
    for i in range(2):
        np.testing.assert_array_equal(mask.segments[i].array, segments[..., i])
    if kind == "FRACTIONAL":
        from dicecli.io import ReadOptions

        loose = dicecli.load_mask(seg, ReadOptions(threshold=0.2))
        assert loose.segments[0].array.sum() == segments[..., 0].sum() + 4


def test_labels_by_segment_name_case_insensitive_and_unknown_names(study, tmp_path):
    folder, segments = study
    seg = write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"])
    labels = segments[..., 1].astype(np.uint8) * 2
    pred = nifti_like_series(str(tmp_path / "pred.nii.gz"), labels)
    # the label map holds only value 2, the SEG numbers Liver 1 and Tumor 2: not matched by a
    # guess; a table naming the label map's value (or the number, --labels tumour=2) does it
    with pytest.raises(MaskReadError, match=r"names nothing \(values 2\).*--pred-label-table"):
        dicecli.score_pair(pred, seg, labels="tumour=tUMOR")
    table = tmp_path / "pred_labels.json"
    table.write_text('{"2": "tumor"}')
    result = dicecli.score_pair(pred, seg, labels="tumour=tUMOR", pred_label_table=str(table))
    assert result.cases.dice.iloc[0] == 1.0
    assert dicecli.score_pair(pred, seg, labels="tumour=2").cases.dice.iloc[0] == 1.0
    with pytest.raises(MaskReadError, match=r"no structure named 'Spleen'.*Liver, Tumor"):
        dicecli.score_pair(pred, seg, labels="spleen=Spleen")


def test_flipped_and_permuted_nifti_scores_one_against_its_seg(study, tmp_path):
    folder, segments = study
    seg = write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments[..., :1], ["Liver"])
    labels = segments[..., 0].astype(np.uint8)
    # the same anatomy stored with x flipped and x/y swapped
    lps = np.eye(4)
    lps[:3, :3] = np.diag(SPACING)
    lps[:3, 3] = ORIGIN
    lps[:3, 0] *= -1
    lps[:3, 3] = np.asarray(ORIGIN) + (SHAPE[0] - 1) * SPACING[0] * np.array([1, 0, 0])
    lps = lps[:, [1, 0, 2, 3]]
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    stored = np.ascontiguousarray(labels[::-1].transpose(1, 0, 2))
    path = str(tmp_path / "turned.nii.gz")
    nib.save(nib.Nifti1Image(stored, ras), path)
    assert dicecli.load_mask(path).array.shape != labels.shape
    assert dicecli.score_pair(path, seg).cases.dice.iloc[0] == 1.0


def test_seg_errors(study, tmp_path, tmp_path_factory):
    folder, segments = study
    seg = write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"])
    lonely = tmp_path_factory.mktemp("far") / "elsewhere" / "seg.dcm"  # no series anywhere near
    lonely.parent.mkdir()
    shutil.copy(seg, lonely)
    from dicecli.io import ReadOptions
    from dicecli.models import SEG_OWN_GRID

    assert dicecli.load_mask(str(lonely)).grid == SEG_OWN_GRID  # tests/unit/test_seg_field.py

    found = dicecli.load_mask(str(lonely), ReadOptions(reference_image=str(folder / "ct")))
    assert len(found.segments) == 2
    ds = pydicom.dcmread(seg)
    ds.SegmentationType = "FOO"
    ds.save_as(str(tmp_path / "odd.dcm"))
    shutil.copy(tmp_path / "odd.dcm", folder / "odd.dcm")
    with pytest.raises(UnsupportedFormatError, match="SEG type FOO is not supported"):
        dicecli.load_mask(str(folder / "odd.dcm"))


def brute_even_odd(polygons, shape2d):
    """Voxel centres inside by ray casting, combined by the even-odd rule across polygons."""
    out = np.zeros(shape2d, bool)
    for polygon in polygons:
        for i in range(shape2d[0]):
            for j in range(shape2d[1]):
                inside = False
                n = len(polygon)
                for a in range(n):
                    (x1, y1), (x2, y2) = polygon[a], polygon[(a + 1) % n]
                    if (y1 > j) != (y2 > j) and i < x1 + (j - y1) * (x2 - x1) / (y2 - y1):
                        inside = not inside
                out[i, j] ^= inside
    return out


def test_rtstruct_with_a_hole_rasterises_exactly(study, tmp_path):
    folder, _ = study
    outer = [(2.5, 2.5), (15.5, 2.5), (15.5, 14.5), (2.5, 14.5)]  # on voxel boundaries
    hole = [(6.5, 6.5), (10.5, 6.5), (10.5, 9.5), (6.5, 9.5)]
    odd = [(1.2, 1.7), (19.3, 3.1), (12.6, 17.4)]  # a triangle off the voxel grid
    rs = write_rtstruct(
        str(folder / "rs.dcm"),
        str(folder / "ct"),
        {"Ring": [(2, outer), (2, hole)], "Wedge": [(4, odd)]},
    )
    mask = dicecli.load_mask(rs)
    ring, wedge = (s.array for s in mask.segments)
    expected = np.zeros(SHAPE, bool)
    expected[3:16, 3:15, 2] = True
    expected[7:11, 7:10, 2] = False
    np.testing.assert_array_equal(ring, expected)
    np.testing.assert_array_equal(wedge[:, :, 4], brute_even_odd([odd], SHAPE[:2]))
    assert not wedge[:, :, :4].any()
    pred = nifti_like_series(str(tmp_path / "ring.nii.gz"), expected.astype(np.uint8))
    result = dicecli.score_pair(pred, rs, labels="ring=1")  # ROI number 1 is the label map's 1
    assert result.cases.dice.iloc[0] == 1.0


def test_rtstruct_without_its_series(study, tmp_path_factory):
    folder, _ = study
    rs = write_rtstruct(
        str(folder / "rs.dcm"),
        str(folder / "ct"),
        {"Box": [(1, [(1.5, 1.5), (4.5, 1.5), (4.5, 4.5)])]},
    )
    alone = tmp_path_factory.mktemp("far") / "alone"  # no series anywhere near
    alone.mkdir()
    shutil.move(rs, alone / "rs.dcm")
    with pytest.raises(MaskReadError, match="RT Structure Set refers to image series"):
        dicecli.load_mask(str(alone / "rs.dcm"))


def test_cli_seg_case_exit_3_and_dicom_columns(study, tmp_path, runner):
    folder, segments = study
    write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"])
    labels = segments[..., 0].astype(np.uint8)
    pred = nifti_like_series(str(tmp_path / "pred.nii.gz"), labels)
    seg = str(folder / "seg.dcm")
    ok = runner.invoke(cli, ["score", pred, seg, "--format", "csv", "--labels", "liver=1"])
    assert ok.exit_code == 0, ok.output
    header = ok.stdout.splitlines()[0].split(",")
    assert header[-3:] == ["patient_id", "study_uid", "series_uid"]
    bad = runner.invoke(cli, ["score", pred, seg, "--labels", "x=Spleen"])
    assert bad.exit_code == 3
    assert "no structure named 'Spleen'" in bad.stderr
    # the label map holds 1 only, the SEG has Liver 1 and Tumor 2 (both non-empty): refused
    guess = runner.invoke(cli, ["score", pred, seg])
    assert guess.exit_code == 3
    assert "names nothing (values 1)" in guess.stderr


def test_geometry_resample_is_explicit(tmp_path):
    gt = np.zeros((10, 10, 4), np.uint8)
    gt[2:8, 2:8, 1:3] = 1
    g = write_nifti(str(tmp_path / "g.nii.gz"), gt, (1.0, 1.0, 2.0))
    coarse = gt[::2, ::2, :]
    p = write_nifti(str(tmp_path / "p.nii.gz"), coarse, (2.0, 2.0, 2.0))
    with pytest.raises(Exception, match="shape"):
        dicecli.score_pair(p, g)
    result = dicecli.score_pair(p, g, geometry="resample")
    assert 0.5 < result.cases.dice.iloc[0] <= 1.0
    assert any("resampled" in w for w in result.warnings)
    assert os.path.exists(p)


def test_report_header_counts_dicom_patients(runner, tmp_path):
    from conftest import ROOT

    example = os.path.join(ROOT, "examples", "dicom-seg")
    out = tmp_path / "r.html"
    result = runner.invoke(
        cli,
        [
            "report",
            f"{example}/pred",
            f"{example}/gt",
            "-o",
            str(out),
            "--images",
            f"{example}/ct",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<dt>DICOM</dt><dd>1 patient(s), 1 study(ies), 1 series</dd>" in html
    assert html.count('alt="overlay of') == 2
    assert "image <code>" in html


def test_seg_without_source_references_is_placed_by_frame_positions(study, tmp_path):
    folder, segments = study
    seg = write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"])
    ds = pydicom.dcmread(seg)
    for item in ds.PerFrameFunctionalGroupsSequence:
        if "DerivationImageSequence" in item:
            del item.DerivationImageSequence
    for key in ("ReferencedSeriesSequence", "SourceImageSequence"):
        if key in ds:
            delattr(ds, key)
    ds.save_as(seg)
    mask = dicecli.load_mask(seg)
    for i in range(2):
        np.testing.assert_array_equal(mask.segments[i].array, segments[..., i])


def test_seg_background_with_labels_has_its_surface_metrics_and_lesions():
    """--labels with --include-background on a SEG reference: the background row (outside every
    segment) is scored per region like the others; its hd95 was NaN and its lesions missing."""
    example = os.path.join(ROOT, "examples", "dicom-seg")
    result = dicecli.score_cases(
        f"{example}/pred",
        f"{example}/gt",
        labels="liver=Liver+2,tumor=Tumor",
        include_background=True,
        metrics="hd95",
        lesions=True,
        jobs=1,
    )
    background = result.cases[result.cases["label"] == "0"].iloc[0]
    assert math.isfinite(background["hd95"])
    assert background["lesions_ref"] == 1  # outside every segment: one connected region
    assert background["lesion_tp"] == 1
