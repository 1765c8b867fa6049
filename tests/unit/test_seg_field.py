"""DICOM SEG as the field writes it: without SpatialLocationsPreserved (dcmqi, 3D Slicer), without
its image series (the SEG's own frames are the grid, embedded exactly in a larger label map),
LABELMAP with a Background segment 0. Files are written with highdicom/pydicom with the same
traits as the real ones in ../shared/conformance (which .ci/run checks as well)."""

from __future__ import annotations

import shutil

import nibabel as nib
import numpy as np
import pydicom
import pytest
from conftest import write_dicom_series
from make_examples import write_seg

import dicecli
from dicecli.cli import cli
from dicecli.errors import GeometryError
from dicecli.models import SEG_OWN_GRID

pytest.importorskip("highdicom")

SPACING, ORIGIN = (0.7, 0.8, 2.0), (-12.0, 5.0, 40.0)
SHAPE = (24, 20, 6)


@pytest.fixture
def study(tmp_path):
    """A CT series in study/ct; two segments on slices 1-4 only (slices 0 and 5 are empty, so
    highdicom leaves their frames out), the second overlapping the first."""
    write_dicom_series(str(tmp_path / "study" / "ct"), np.zeros(SHAPE, np.int16), SPACING, ORIGIN)
    segments = np.zeros((*SHAPE, 2), bool)
    segments[3:12, 4:14, 1:4, 0] = True
    segments[8:20, 9:17, 2:5, 1] = True
    return tmp_path / "study", segments


def label_nifti(path, labels, shift=(0.0, 0.0, 0.0)):
    """A NIfTI label map on the CT grid (RAS affine of the LPS series), optionally moved."""
    affine = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])
    affine[:3, 3] = (-ORIGIN[0] - shift[0], -ORIGIN[1] - shift[1], ORIGIN[2] + shift[2])
    nib.save(nib.Nifti1Image(labels.astype(np.uint8), affine), str(path))
    return str(path)


def without_spatial_locations_preserved(path):
    """As dcmqi writes: source images referenced per frame, SpatialLocationsPreserved absent."""
    ds = pydicom.dcmread(path)
    for frame in ds.PerFrameFunctionalGroupsSequence:
        for derivation in frame.DerivationImageSequence:
            for source in derivation.SourceImageSequence:
                del source.SpatialLocationsPreserved
    ds.save_as(path)
    return path


def without_pixel_padding_value(path):
    """As dcmqi writes a LABELMAP: segment 0 "Background" listed like any other segment, no
    PixelPaddingValue saying that 0 is the background (highdicom writes one)."""
    ds = pydicom.dcmread(path)
    del ds.PixelPaddingValue
    ds.save_as(path)
    return path


def alone(path, tmp_path_factory):
    """The SEG copied where no image series is anywhere near it."""
    lonely = tmp_path_factory.mktemp("far") / "labels" / "seg.dcm"
    lonely.parent.mkdir()
    shutil.copy(path, lonely)
    return str(lonely)


def test_seg_without_spatial_locations_preserved_is_placed_by_plane_position(study, tmp_path):
    folder, segments = study
    seg = write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"])
    without_spatial_locations_preserved(seg)
    mask = dicecli.load_mask(seg)
    assert mask.grid.startswith("the referenced series in")
    for i in range(2):
        np.testing.assert_array_equal(mask.segments[i].array, segments[..., i])
    gt = label_nifti(tmp_path / "gt.nii.gz", segments[..., 0])
    result = dicecli.score_pair(seg, gt, labels="Liver=1")
    assert result.cases.set_index("label").loc["Liver", "dice"] == 1.0


def test_seg_alone_uses_its_own_frames_as_its_grid(study, tmp_path_factory):
    folder, segments = study
    seg = alone(
        write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"]),
        tmp_path_factory,
    )
    mask = dicecli.load_mask(seg)
    assert mask.grid == SEG_OWN_GRID
    # frames exist for slices 1-4 only: the SEG's own grid is those four slices
    assert mask.array.shape == (*SHAPE[:2], 4)
    assert mask.spacing == pytest.approx(SPACING)
    assert mask.origin == pytest.approx((ORIGIN[0], ORIGIN[1], ORIGIN[2] + SPACING[2]))
    assert mask.direction == pytest.approx(tuple(np.eye(3).ravel()))
    for i in range(2):
        np.testing.assert_array_equal(mask.segments[i].array, segments[:, :, 1:5, i])


@pytest.mark.parametrize("seg_side", ["pred", "gt"])
def test_sparse_seg_alone_embeds_exactly_in_the_full_label_map(
    study, tmp_path, tmp_path_factory, seg_side
):
    """A SEG storing only its non-empty slices scores against the full-size NIfTI; a predicted
    voxel on a slice the SEG does not cover is still a false positive, never dropped."""
    folder, segments = study
    seg = alone(
        write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments[..., :1], ["Liver"]),
        tmp_path_factory,
    )
    labels = segments[..., 0].copy()
    labels[0, 0, 0] = labels[5, 5, 5] = True  # on slices 0 and 5, outside the SEG's frames
    nifti = label_nifti(tmp_path / "labels.nii.gz", labels)
    pred, gt = (seg, nifti) if seg_side == "pred" else (nifti, seg)
    row = dicecli.score_pair(pred, gt).cases.iloc[0]
    tp = int(segments[..., 0].sum())
    assert (row.tp, row.fp + row.fn) == (tp, 2)
    assert row.tp + row.fp + row.fn + row.tn == np.prod(SHAPE)
    assert row.dice == pytest.approx(2 * tp / (2 * tp + 2))


def test_seg_alone_off_the_label_map_grid_is_a_geometry_error(study, tmp_path, tmp_path_factory):
    folder, segments = study
    seg = alone(
        write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments[..., :1], ["Liver"]),
        tmp_path_factory,
    )
    nifti = label_nifti(tmp_path / "half.nii.gz", segments[..., 0], shift=(0.35, 0, 0))
    with pytest.raises(GeometryError, match="--geometry resample"):
        dicecli.score_pair(seg, nifti)


def test_labelmap_seg_alone_background_segment_is_not_scored(study, tmp_path, tmp_path_factory):
    folder, segments = study
    segments[..., 1] &= ~segments[..., 0]
    written = write_seg(
        str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"], "LABELMAP"
    )
    seg = alone(without_pixel_padding_value(written), tmp_path_factory)
    assert [s.number for s in dicecli.load_mask(seg).segments] == [0, 1, 2]
    ds = pydicom.dcmread(seg)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.7"
    assert next((s.SegmentNumber, s.SegmentLabel) for s in ds.SegmentSequence) == (0, "Background")
    labels = np.where(segments[..., 0], 1, np.where(segments[..., 1], 2, 0))
    gt = label_nifti(tmp_path / "gt.nii.gz", labels)
    result = dicecli.score_pair(seg, gt)
    assert list(result.cases.label) == ["Liver", "Tumor"]
    assert list(result.cases.dice) == [1.0, 1.0]
    both = dicecli.score_pair(seg, seg, include_background=True)  # SEG against itself
    assert sorted(both.cases.label) == ["Background", "Liver", "Tumor"]
    assert list(both.cases.dice) == [1.0, 1.0, 1.0]
    plain = dicecli.score_pair(seg, seg)
    assert sorted(plain.cases.label) == ["Liver", "Tumor"]


def test_labelmap_seg_with_a_missing_middle_slice(study, tmp_path, tmp_path_factory):
    """Frames for 2 of 3 slices (as dcmqi's sparse LABELMAP): the gap reads as empty."""
    folder, segments = study
    one = np.zeros_like(segments[..., :1])
    one[2:6, 2:6, 1, 0] = True
    one[4:9, 3:7, 3, 0] = True  # slice 2 between them is empty, and so left out
    seg = alone(
        write_seg(str(folder / "seg.dcm"), str(folder / "ct"), one, ["Liver"], "LABELMAP"),
        tmp_path_factory,
    )
    assert pydicom.dcmread(seg).NumberOfFrames == 2
    mask = dicecli.load_mask(seg)
    assert mask.array.shape == (*SHAPE[:2], 3)
    liver = next(s for s in mask.segments if s.label == "Liver")
    np.testing.assert_array_equal(liver.array, one[:, :, 1:4, 0])
    gt = label_nifti(tmp_path / "gt.nii.gz", one[..., 0])
    assert dicecli.score_pair(seg, gt).cases.dice.iloc[0] == 1.0


def test_two_seg_files_alone_binary_against_fractional(study, tmp_path_factory):
    folder, segments = study
    binary = alone(
        write_seg(str(folder / "a.dcm"), str(folder / "ct"), segments[..., :1], ["Liver"]),
        tmp_path_factory,
    )
    fractional = alone(
        write_seg(
            str(folder / "b.dcm"),
            str(folder / "ct"),
            segments[..., :1] * 1.0,
            ["Liver"],
            "FRACTIONAL",
        ),
        tmp_path_factory,
    )
    row = dicecli.score_pair(fractional, binary).cases.iloc[0]
    assert (row.label, row.dice, row.tp) == ("Liver", 1.0, segments[..., 0].sum())


def test_reference_image_that_is_not_the_series_is_an_error(study, tmp_path, tmp_path_factory):
    """An explicit --reference-image must hold the series; the SEG's own grid is no fallback."""
    folder, segments = study
    seg = alone(
        write_seg(str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"]),
        tmp_path_factory,
    )
    other = tmp_path / "other"
    write_dicom_series(str(other), np.zeros((4, 4, 2), np.int16), (1, 1, 1), (0, 0, 0))
    from dicecli.errors import MaskReadError
    from dicecli.io import ReadOptions

    with pytest.raises(MaskReadError, match=r"refers to image series .* --reference-image"):
        dicecli.load_mask(seg, ReadOptions(reference_image=str(other)))


def test_info_shows_segments_and_where_the_grid_came_from(study, runner, tmp_path_factory):
    folder, segments = study
    segments[..., 1] &= ~segments[..., 0]
    written = write_seg(
        str(folder / "seg.dcm"), str(folder / "ct"), segments, ["Liver", "Tumor"], "LABELMAP"
    )
    lonely = alone(without_pixel_padding_value(written), tmp_path_factory)
    result = runner.invoke(cli, ["info", written, lonely])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"  grid from the referenced series in {folder / 'ct'}" in lines
    assert f"  grid from {SEG_OWN_GRID}" in lines
    liver = int(segments[..., 0].sum())
    assert any(line.split()[:4] == ["segment", "1", "Liver:", f"{liver:,}"] for line in lines)
    assert any("segment      0 Background:" in line and "not scored" in line for line in lines)
