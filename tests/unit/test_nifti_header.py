"""The nibabel-free NIfTI-1 header parser agrees with nibabel on every field it reads."""

from __future__ import annotations

import io

import nibabel as nib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicecli.io import _nifti1


def random_affine(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
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
