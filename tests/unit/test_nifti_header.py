"""The nibabel-free NIfTI-1 header parser agrees with nibabel on every field it reads, and its
orientation with ITK/SimpleITK (the NIfTI reference code's rule) where nibabel departs from it."""

from __future__ import annotations

import io

import nibabel as nib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicecli.io import _nifti1


def random_affine(rng: np.random.Generator) -> np.ndarray:
    """A rotation whose quaternion has a >= 0.05 (a proper rotation, or an improper one that
    the qform stores with qfac = -1): nibabel follows the NIfTI reference code there. Near
    a = 0 nibabel departs from it; ``test_qform_matches_simpleitk`` covers that region."""
    while True:
        q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
        proper = q if np.linalg.det(q) > 0 else q @ np.diag([1.0, 1.0, -1.0])
        if 1.0 + np.trace(proper) >= 4 * 0.05**2:  # 4a² = 1 + trace(R)
            break
    affine = np.eye(4)
    affine[:3, :3] = q * rng.uniform(0.3, 3.0, 3)
    affine[:3, 3] = rng.uniform(-200, 200, 3)
    return affine


def header_bytes(header: nib.Nifti1Header) -> bytes:
    buffer = io.BytesIO()
    header.write_to(buffer)
    return buffer.getvalue()


@given(
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from(["u1", "i2", "u2", "i4", "f4", "f8", "i1", "i8"]),
    codes=st.sampled_from([(1, 0), (0, 2), (1, 1), (2, 4)]),  # (qform, sform)
    big_endian=st.booleans(),
    shape=st.lists(st.integers(1, 40), min_size=2, max_size=4).map(tuple),
)
@settings(max_examples=150, deadline=None)
def test_parser_matches_nibabel(seed, dtype, codes, big_endian, shape):
    rng = np.random.default_rng(seed)
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(np.dtype(dtype))
    affine = random_affine(rng)
    header.set_qform(affine, code=codes[0])
    header.set_sform(affine @ np.diag([1, 1, 1, 1]), code=codes[1])
    if dtype == "i2":
        header.set_slope_inter(0.5, -3.0)
    if big_endian:
        header = header.as_byteswapped(">")
    parsed = _nifti1.parse(header_bytes(header))
    assert parsed is not None
    assert parsed.shape == header.get_data_shape()
    assert parsed.dtype == header.get_data_dtype()
    assert parsed.vox_offset == int(header["vox_offset"])
    slope, inter = header.get_slope_inter()
    assert parsed.slope == slope
    assert parsed.inter == (inter or 0.0)
    np.testing.assert_allclose(parsed.affine, header.get_best_affine(), rtol=1e-6, atol=1e-5)


def test_qform_with_negative_qfac_matches_nibabel():
    header = nib.Nifti1Header()
    header.set_data_shape((4, 5, 6))
    flipped = np.diag([0.7, 0.8, -2.5, 1.0])
    flipped[:3, 3] = (10, 20, 30)
    header.set_qform(flipped, code=1)
    header.set_sform(np.eye(4), code=0)
    parsed = _nifti1.parse(header_bytes(header))
    assert header["pixdim"][0] == -1
    np.testing.assert_allclose(parsed.affine, header.get_best_affine(), atol=1e-6)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda h: (h.set_qform(None, code=0), h.set_sform(None, code=0)), id="no-codes"
        ),
        pytest.param(lambda h: h.set_data_dtype(np.complex64), id="complex"),
        pytest.param(lambda h: h.__setitem__("magic", b"xx1"), id="bad-magic"),
    ],
)
def test_parser_leaves_unusual_headers_to_nibabel(mutate):
    header = nib.Nifti1Header()
    header.set_data_shape((4, 5, 6))
    header.set_sform(np.eye(4), code=1)
    mutate(header)
    assert _nifti1.parse(header_bytes(header)) is None


def test_nifti2_files_are_read_through_nibabel(tmp_path):
    from dicecli.io import load_mask

    vol = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = str(tmp_path / "a.nii.gz")
    nib.save(nib.Nifti2Image(vol, np.diag([2.0, 3.0, 4.0, 1.0])), path)
    mask = load_mask(path)
    np.testing.assert_array_equal(mask.array, vol)
    assert mask.spacing == pytest.approx((2.0, 3.0, 4.0))


#: 1 - b² - c² - d² values around the reference code's 1e-7 threshold, and nibabel's 3.6e-7
NEAR_HALF_TURN = [0.0, 1e-9, 5e-8, 9.9e-8, 1e-7, 1.5e-7, 3e-7, 3.6e-7, 1e-6, 1e-4, 0.01, 0.5]


def raw_qform_nifti(path, a_squared: float, axis, qfac: float, zooms, offset) -> None:
    """A .nii whose qform is exactly (b, c, d) = sqrt(1 - a²) * axis, written field by field
    (nibabel's set_qform would recompute the quaternion), with no sform: how oblique scans
    converted from DICOM often look."""
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    header = nib.Nifti1Header()
    header.set_data_shape((5, 6, 7))
    header.set_data_dtype(np.uint8)
    header["quatern_b"], header["quatern_c"], header["quatern_d"] = np.sqrt(1 - a_squared) * axis
    header["qoffset_x"], header["qoffset_y"], header["qoffset_z"] = offset
    header["pixdim"][0] = qfac
    header["pixdim"][1:4] = zooms
    header["qform_code"], header["sform_code"] = 1, 0
    header["vox_offset"] = 352
    data = np.zeros((5, 6, 7), np.uint8)
    data[1:3, 2:5, 3:6] = 1
    with open(path, "wb") as f:
        f.write(header.binaryblock + b"\0" * 4 + data.tobytes(order="F"))


def sweep():
    rng = np.random.default_rng(2026)
    for a_squared in NEAR_HALF_TURN:
        for k in range(4):
            yield pytest.param(
                a_squared,
                rng.standard_normal(3),
                (1.0, -1.0)[k % 2],
                rng.uniform(0.3, 3.0, 3),
                rng.uniform(-150, 150, 3),
                id=f"a2={a_squared:g}-{k}",
            )


@pytest.mark.parametrize(("a_squared", "axis", "qfac", "zooms", "offset"), list(sweep()))
def test_qform_matches_simpleitk(tmp_path, a_squared, axis, qfac, zooms, offset):
    """Direction, origin and spacing as ITK reads the same file, to well under ITK's own 1e-6
    direction tolerance, including quaternions with a ≈ 0 (a rotation of about 180°)."""
    import SimpleITK as sitk

    from dicecli.io import load_mask

    path = str(tmp_path / "oblique.nii")
    raw_qform_nifti(path, a_squared, axis, qfac, zooms, offset)
    mask = load_mask(path)
    image = sitk.ReadImage(path)
    np.testing.assert_allclose(mask.direction, image.GetDirection(), rtol=0, atol=1e-7)
    np.testing.assert_allclose(mask.origin, image.GetOrigin(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(mask.spacing, image.GetSpacing(), rtol=1e-7)


def test_oblique_nifti_scores_dice_1_against_the_nrrd_simpleitk_writes(tmp_path):
    """The NRRD SimpleITK writes from an oblique NIfTI (a ≈ 0) is the same grid at ITK's own
    tolerance: every case Dice 1, no geometry error at --geometry-tolerance 1e-6."""
    import SimpleITK as sitk

    from dicecli.api import score_cases

    (tmp_path / "pred").mkdir()
    (tmp_path / "gt").mkdir()
    for i, (a_squared, axis, qfac, zooms, offset) in enumerate(
        [
            (0.0, (1, 2, 3), -1.0, (0.7, 0.7, 2.5), (10, -20, 30)),
            (2e-7, (3, -1, 1), 1.0, (0.8, 0.9, 1.25), (-5, 5, 0)),
            (0.3, (0, 1, 0), -1.0, (1, 1, 1), (0, 0, 0)),
        ]
    ):
        nifti = str(tmp_path / "pred" / f"case{i}.nii")
        raw_qform_nifti(nifti, a_squared, axis, qfac, zooms, offset)
        sitk.WriteImage(sitk.ReadImage(nifti), str(tmp_path / "gt" / f"case{i}.nrrd"))
    result = score_cases(tmp_path / "pred", tmp_path / "gt", geometry_tolerance=1e-6, jobs=1)
    assert not result.errors
    assert list(result.cases["dice"]) == [1.0, 1.0, 1.0]
