"""Readers on files written by the real libraries, including corrupt, truncated and empty files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import write_dicom_series, write_nifti, write_png
from PIL import Image

from dicecli.errors import MaskReadError, UnsupportedFormatError
from dicecli.geometry import check_geometry
from dicecli.io import ReadOptions, case_id, format_suffix, load_mask


@pytest.fixture
def volume(rng):
    return rng.integers(0, 4, (12, 10, 6)).astype(np.uint8)


# -- NIfTI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.int32])
def test_nifti_keeps_integer_labels_and_spacing(tmp_path, volume, suffix, dtype):
    path = write_nifti(str(tmp_path / f"a{suffix}"), volume.astype(dtype), (0.5, 0.7, 3.0))
    mask = load_mask(path)
    assert mask.array.dtype == dtype
    np.testing.assert_array_equal(mask.array, volume)
    assert mask.spacing == pytest.approx((0.5, 0.7, 3.0))
    # RAS diagonal affine -> LPS direction flips x and y
    assert mask.direction == pytest.approx((-1, 0, 0, 0, -1, 0, 0, 0, 1))


def test_nifti_4d_with_singleton_time_axis_reads_as_3d(tmp_path, volume):
    path = write_nifti(str(tmp_path / "a.nii.gz"), volume[..., np.newaxis])
    assert load_mask(path).array.shape == volume.shape


def test_nifti_multichannel_is_refused(tmp_path, volume):
    path = write_nifti(str(tmp_path / "a.nii.gz"), np.stack([volume, volume], axis=-1))
    with pytest.raises(MaskReadError, match="4-D image"):
        load_mask(path)


def test_truncated_nifti_gz_names_the_file(tmp_path, volume):
    path = write_nifti(str(tmp_path / "a.nii.gz"), volume)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])
    with pytest.raises(MaskReadError, match=r"a\.nii\.gz"):
        load_mask(path)


def test_nifti_gz_with_too_little_voxel_data_is_truncated(tmp_path, volume):
    path = write_nifti(str(tmp_path / "a.nii.gz"), volume)
    raw = gzip.decompress(Path(path).read_bytes())
    Path(path).write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(MaskReadError, match="truncated"):
        load_mask(path)


def test_truncated_uncompressed_nifti(tmp_path, volume):
    path = write_nifti(str(tmp_path / "a.nii"), volume)
    Path(path).write_bytes(Path(path).read_bytes()[:-200])
    with pytest.raises(MaskReadError, match=r"a\.nii"):
        load_mask(path)


def test_garbage_with_nifti_suffix(tmp_path):
    path = tmp_path / "junk.nii.gz"
    path.write_bytes(gzip.compress(b"not a nifti header" * 40))
    with pytest.raises(MaskReadError, match=r"junk\.nii\.gz"):
        load_mask(str(path))
    plain = tmp_path / "junk.nii"
    plain.write_bytes(b"\x00" * 500)
    with pytest.raises(MaskReadError, match=r"junk\.nii"):
        load_mask(str(plain))


def test_decompression_bomb_refused_before_allocation(tmp_path):
    import nibabel as nib

    header = nib.Nifti1Header()
    header.set_data_shape((30000, 30000, 30000))
    header.set_data_dtype(np.uint8)
    raw = header.binaryblock + b"\x00" * 4
    path = tmp_path / "bomb.nii.gz"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(MaskReadError, match="--max-voxels"):
        load_mask(str(path))


def test_max_voxels_option(tmp_path, volume):
    path = write_nifti(str(tmp_path / "a.nii.gz"), volume)
    with pytest.raises(MaskReadError, match="720 voxels"):
        load_mask(path, ReadOptions(max_voxels=100))


# -- ITK formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd"])
def test_itk_formats_read_in_xyz_order(tmp_path, volume, suffix):
    image = sitk.GetImageFromArray(volume.T.copy())  # sitk wants (z, y, x)
    image.SetSpacing((0.5, 0.7, 3.0))
    image.SetOrigin((10.0, -5.0, 2.0))
    path = str(tmp_path / f"a{suffix}")
    sitk.WriteImage(image, path)
    mask = load_mask(path)
    np.testing.assert_array_equal(mask.array, volume)
    assert mask.spacing == pytest.approx((0.5, 0.7, 3.0))
    assert mask.origin == pytest.approx((10.0, -5.0, 2.0))


def test_nifti_and_nrrd_of_same_grid_agree(tmp_path, volume):
    nifti = load_mask(write_nifti(str(tmp_path / "a.nii.gz"), volume, (0.5, 0.7, 3.0)))
    image = sitk.GetImageFromArray(volume.T.copy())
    image.SetSpacing(nifti.spacing)
    image.SetOrigin(nifti.origin)
    image.SetDirection(nifti.direction)
    sitk.WriteImage(image, str(tmp_path / "a.nrrd"))
    nrrd = load_mask(str(tmp_path / "a.nrrd"))
    np.testing.assert_array_equal(nrrd.array, nifti.array)
    assert check_geometry(nrrd, nifti) == []


def test_corrupt_nrrd(tmp_path):
    path = tmp_path / "bad.nrrd"
    path.write_bytes(b"NRRD0004\ntype: what\n\n\x00\x01")
    with pytest.raises(MaskReadError, match=r"bad\.nrrd"):
        load_mask(str(path))


# -- Raster images --------------------------------------------------------------------------------


def test_png_0_255_reads_as_0_1(tmp_path):
    a = np.zeros((8, 6), np.uint8)
    a[2:5, 1:3] = 255
    mask = load_mask(write_png(str(tmp_path / "m.png"), a))
    np.testing.assert_array_equal(mask.array, a // 255)
    assert mask.array.shape == (8, 6)


def test_palette_png_keeps_indices_as_labels(tmp_path, rng):
    a = rng.integers(0, 4, (9, 7)).astype(np.uint8)
    mask = load_mask(write_png(str(tmp_path / "p.png"), a, palette=True))
    np.testing.assert_array_equal(mask.array, a)


def test_grey_level_png_keeps_values(tmp_path):
    a = np.array([[0, 1], [2, 255]], np.uint8)
    np.testing.assert_array_equal(load_mask(write_png(str(tmp_path / "g.png"), a)).array, a)


def test_16_bit_png(tmp_path):
    a = np.array([[0, 300], [1000, 2]], np.uint16)
    np.testing.assert_array_equal(load_mask(write_png(str(tmp_path / "g.png"), a)).array, a)


def test_rgb_mask_needs_colour_map(tmp_path):
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[1, 1] = (255, 0, 0)
    rgb[2, 3] = (0, 255, 0)
    path = str(tmp_path / "rgb.png")
    Image.fromarray(rgb).save(path)
    with pytest.raises(MaskReadError, match=r"rgb\.png.*#ff0000.*--color-map"):
        load_mask(path)
    mask = load_mask(path, ReadOptions(color_map={(255, 0, 0): 1, (0, 255, 0): 2}))
    assert mask.array[1, 1] == 1  # (x=1, y=1)
    assert mask.array[3, 2] == 2  # (x=3, y=2)
    assert int(mask.array.sum()) == 3


def test_grey_stored_as_rgba_reads_as_grey(tmp_path):
    grey = np.array([[0, 2], [1, 1]], np.uint8)
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    path = str(tmp_path / "g.png")
    Image.fromarray(rgba, mode="RGBA").save(path)
    np.testing.assert_array_equal(load_mask(path).array, grey.T)


def test_bilevel_tiff_and_multipage_tiff(tmp_path):
    a = np.array([[1, 0, 1], [0, 1, 1]], bool)
    path = str(tmp_path / "b.tif")
    Image.fromarray(a).convert("1").save(path)
    np.testing.assert_array_equal(load_mask(path).array, a.T.astype(np.uint8))
    pages = [Image.fromarray(np.full((3, 4), k, np.uint8)) for k in range(3)]
    stack = str(tmp_path / "s.tiff")
    pages[0].save(stack, save_all=True, append_images=pages[1:])
    mask = load_mask(stack)
    assert mask.array.shape == (4, 3, 3)
    assert [int(mask.array[0, 0, k]) for k in range(3)] == [0, 1, 2]


def test_jpeg_warns_about_lossy_masks(tmp_path):
    path = str(tmp_path / "m.jpg")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)
    assert any("lossy" in w for w in load_mask(path).warnings)


def test_truncated_png(tmp_path, rng):
    path = write_png(str(tmp_path / "t.png"), rng.integers(0, 255, (64, 64)).astype(np.uint8))
    Path(path).write_bytes(Path(path).read_bytes()[:60])
    with pytest.raises(MaskReadError, match=r"t\.png"):
        load_mask(path)


# -- DICOM ----------------------------------------------------------------------------------------


def test_dicom_series_sorted_by_position_not_name(tmp_path, volume):
    folder = write_dicom_series(str(tmp_path / "s"), volume, (0.6, 0.8, 2.5), (1, 2, 3))
    mask = load_mask(folder)
    np.testing.assert_array_equal(mask.array, volume)
    assert mask.spacing == pytest.approx((0.6, 0.8, 2.5))
    assert mask.origin == pytest.approx((1, 2, 3))
    assert mask.meta["PatientID"] == "DICECLI-EXAMPLE"


def test_dicom_single_file(tmp_path, volume):
    folder = write_dicom_series(str(tmp_path / "s"), volume[:, :, :1], shuffle_names=False)
    mask = load_mask(os.path.join(folder, "IM0000.dcm"))
    np.testing.assert_array_equal(mask.array, volume[:, :, 0])


def test_dicom_file_without_suffix_is_sniffed(tmp_path, volume):
    folder = write_dicom_series(str(tmp_path / "s"), volume[:, :, :1], shuffle_names=False)
    os.rename(os.path.join(folder, "IM0000.dcm"), os.path.join(folder, "IM0000"))
    assert load_mask(os.path.join(folder, "IM0000")).array.shape == (12, 10)


def test_folder_with_two_series_lists_them(tmp_path, volume):
    folder = str(tmp_path / "s")
    write_dicom_series(folder, volume[:, :, :2], series_uid="1.2.3.1")
    other = write_dicom_series(str(tmp_path / "o"), volume[:, :, :2], series_uid="1.2.3.2")
    for i, name in enumerate(os.listdir(other)):
        os.rename(os.path.join(other, name), os.path.join(folder, f"other{i}.dcm"))
    with pytest.raises(MaskReadError, match=r"2 DICOM series.*1\.2\.3\.1.*1\.2\.3\.2"):
        load_mask(folder)


def test_zero_byte_slice_in_series(tmp_path, volume):
    folder = write_dicom_series(str(tmp_path / "s"), volume[:, :, :3])
    Path(folder, "broken.dcm").write_bytes(b"")
    with pytest.raises(MaskReadError, match=r"broken\.dcm.*empty"):
        load_mask(folder)


def test_corrupt_dicom_file(tmp_path):
    path = tmp_path / "x.dcm"
    path.write_bytes(b"\x00" * 128 + b"DICM" + b"\xff" * 50)
    with pytest.raises(MaskReadError, match=r"x\.dcm"):
        load_mask(str(path))


def test_folder_without_dicom(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(MaskReadError, match="no DICOM files"):
        load_mask(str(tmp_path))


# -- dispatch -------------------------------------------------------------------------------------


def test_zero_byte_missing_and_unknown_files(tmp_path):
    empty = tmp_path / "e.nii.gz"
    empty.write_bytes(b"")
    with pytest.raises(MaskReadError, match=r"e\.nii\.gz: empty file"):
        load_mask(str(empty))
    with pytest.raises(MaskReadError, match="no such file"):
        load_mask(str(tmp_path / "nope.png"))
    unknown = tmp_path / "data.xyz"
    unknown.write_bytes(b"1234")
    with pytest.raises(UnsupportedFormatError, match=r"data\.xyz: unknown mask format"):
        load_mask(str(unknown))


@pytest.mark.parametrize(
    ("name", "case", "suffix"),
    [
        pytest.param("case.nii.gz", "case", ".nii.gz", id="nii.gz-one-suffix"),
        pytest.param("case.seg.nii.gz", "case.seg", ".nii.gz", id="nested-suffix"),
        pytest.param("CT_01.PNG", "CT_01", ".png", id="upper-case"),
        pytest.param("scan", "scan", None, id="no-suffix"),
    ],
)
def test_case_ids(name, case, suffix):
    assert case_id(name) == case
    assert format_suffix(name) == suffix


def test_uncompressed_nifti_is_memory_mapped_not_copied(tmp_path, volume):
    path = write_nifti(str(tmp_path / "a.nii"), volume)
    array = load_mask(path).array
    base = array
    while getattr(base, "base", None) is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap)


def test_nifti_gz_voxels_are_viewed_in_the_decompressed_buffer(tmp_path, volume):
    array = load_mask(write_nifti(str(tmp_path / "a.nii.gz"), volume)).array
    assert array.base is not None
    assert not array.flags.owndata  # a view, not a second copy
