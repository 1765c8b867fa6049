"""A NIfTI-1 header read without importing nibabel.

Why keep it: ``import nibabel`` costs 0.15 s (``python -X importtime -c "import nibabel"``,
median of 5 here), while loading a whole .nii.gz case through this parser takes 0.08 s of
process time in all -- it halves the time of a one-pair ``dicecli score``.

Only the fields dicecli needs: shape, dtype, voxel offset, scaling, and the affine: the sform
when ``sform_code > 0`` (nibabel's ``get_best_affine`` and ITK alike, for the rigid sforms
scanners write), else the qform computed exactly as the NIfTI reference code does (see
``_qform``). Anything else (NIfTI-2, neither code set, unusual data types) returns None and the
caller uses nibabel. The tests check every field against nibabel, and the orientation against
SimpleITK on a sweep of oblique qforms including rotations of about 180°.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

#: How far beyond 1 the length of a stored (float32) quaternion may be: nibabel's tolerance.
QUATERNION_SLACK = 3 * float(np.finfo(np.float32).eps)

#: NIfTI datatype code -> numpy type (without byte order).
DTYPES = {
    2: "u1",
    4: "i2",
    8: "i4",
    16: "f4",
    64: "f8",
    256: "i1",
    512: "u2",
    768: "u4",
    1024: "i8",
    1280: "u8",
}


@dataclass(frozen=True, slots=True)
class Nifti1Header:
    shape: tuple[int, ...]
    dtype: np.dtype[np.generic]
    #: as stored (a float); ``offset`` checks it
    vox_offset: float
    #: voxels in the same file (magic ``n+1``), after the header
    single: bool
    slope: float | None
    inter: float
    affine: np.ndarray

    @property
    def offset(self) -> int:
        """Where the voxels start; ``ValueError`` for an offset inside the header."""
        return check_offset(self.vox_offset, 352 if self.single else 0)

    @property
    def data_end(self) -> int:
        return self.offset + math.prod(self.shape) * self.dtype.itemsize


def parse(head: bytes) -> Nifti1Header | None:
    """Parse the first 348 bytes of a NIfTI-1 file, or None when nibabel should decide (no
    NIfTI-1 magic, an unusual data type, neither qform nor sform). A field no valid file holds
    (dimensions, voxel offset, scaling, a quaternion longer than 1) raises ``ValueError``."""
    if len(head) < 348:
        return None
    for end in "<>":
        if struct.unpack_from(end + "i", head, 0)[0] == 348:
            break
    else:
        return None
    if head[344:348] not in (b"n+1\x00", b"ni1\x00"):
        return None
    dim = struct.unpack_from(end + "8h", head, 40)
    code = struct.unpack_from(end + "h", head, 70)[0]
    check_dims(dim[0], dim[1:])
    if code not in DTYPES:
        return None
    pixdim = struct.unpack_from(end + "8f", head, 76)
    vox_offset, slope, inter = struct.unpack_from(end + "3f", head, 108)
    slope, inter = check_scaling(slope, inter)
    qform_code, sform_code = struct.unpack_from(end + "2h", head, 252)
    if sform_code > 0:
        rows = struct.unpack_from(end + "12f", head, 280)
        affine = np.eye(4)
        affine[:3] = np.asarray(rows, dtype=np.float64).reshape(3, 4)
    elif qform_code > 0:
        affine = _qform(struct.unpack_from(end + "6f", head, 256), pixdim)
    else:
        return None  # nibabel's Analyze-style fallback affine
    return Nifti1Header(
        shape=tuple(int(d) for d in dim[1 : dim[0] + 1]),
        dtype=np.dtype(end + DTYPES[code]),
        vox_offset=vox_offset,
        single=head[344:348] == b"n+1\x00",
        slope=slope,
        inter=inter,
        affine=affine,
    )


def check_dims(ndim: int, sizes: tuple[int, ...]) -> None:
    """``dim[0]`` in 1..7 and every size used at least 1 (a mask of no voxel is no mask)."""
    if not 1 <= ndim <= 7:
        raise ValueError(f"dim[0] = {ndim}: the number of dimensions must be 1 to 7")
    used = tuple(int(n) for n in sizes[:ndim])
    if any(n < 0 for n in used):
        raise ValueError(f"negative size in the dimensions {used}")
    if any(n == 0 for n in used):
        raise ValueError(f"holds no voxels (dimensions {used})")


def check_offset(vox_offset: float, least: int) -> int:
    """The voxels start after the header of a single file (352 bytes for NIfTI-1, 544 for
    NIfTI-2): an offset inside it would read header bytes as voxels."""
    if not math.isfinite(vox_offset) or vox_offset < 0:
        raise ValueError(f"vox_offset {vox_offset} is not a byte offset")
    if vox_offset < least:
        raise ValueError(f"vox_offset {vox_offset:g} lies inside the header (< {least})")
    return int(vox_offset)


def check_affine(affine: np.ndarray, ndim: int) -> None:
    """Finite, and no voxel axis of length 0: otherwise there is no grid to compare."""
    a = np.asarray(affine, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError("the affine (sform or qform) holds NaN or infinite values")
    if (np.linalg.norm(a[:3, :ndim], axis=0) == 0).any():
        raise ValueError("the affine gives a voxel axis of length 0 (sform or qform)")


def check_scaling(slope: float, inter: float) -> tuple[float | None, float]:
    """scl_slope 0 or NaN means no scaling (the standard); an infinite slope, or an intercept
    that is not finite beside a slope that is used, has no meaning."""
    if slope == 0 or math.isnan(slope):
        return None, 0.0
    if not math.isfinite(slope):
        raise ValueError(f"scl_slope {slope} is not a number that scales voxels")
    if not math.isfinite(inter):
        raise ValueError(f"scl_inter {inter} beside scl_slope {slope:g}")
    return float(slope), float(inter)


def _qform(q: tuple[float, ...], pixdim: tuple[float, ...]) -> np.ndarray:
    """The qform affine as the NIfTI reference code computes it (``nifti_quatern_to_mat44``,
    which ITK and SimpleITK use): double precision; ``a = sqrt(1 - b² - c² - d²)``, except that
    when ``1 - b² - c² - d² < 1e-7`` the rotation is taken as exactly 180° (``a = 0``) and
    (b, c, d) is renormalised; zooms of 0 or less read as 1; qfac = -1 (``pixdim[0] < 0``)
    negates the third zoom. nibabel departs from this rule for 1e-7 <= a² < 3.6e-7."""
    b, c, d, qx, qy, qz = (float(v) for v in q)
    a = 1.0 - (b * b + c * c + d * d)
    if a < -QUATERNION_SLACK or not all(math.isfinite(v) for v in (b, c, d, qx, qy, qz)):
        raise ValueError(f"the qform quaternion ({b:g}, {c:g}, {d:g}) is not a rotation")
    if a < 1.0e-7:
        norm = 1.0 / math.sqrt(b * b + c * c + d * d)
        a, b, c, d = 0.0, b * norm, c * norm, d * norm
    else:
        a = math.sqrt(a)
    rotation = np.array(
        [
            [a * a + b * b - c * c - d * d, 2.0 * (b * c - a * d), 2.0 * (b * d + a * c)],
            [2.0 * (b * c + a * d), a * a + c * c - b * b - d * d, 2.0 * (c * d - a * b)],
            [2.0 * (b * d - a * c), 2.0 * (c * d + a * b), a * a + d * d - c * c - b * b],
        ]
    )
    zooms = np.array([float(v) if v > 0 else 1.0 for v in pixdim[1:4]], dtype=np.float64)
    if pixdim[0] < 0:
        zooms[2] = -zooms[2]
    affine = np.eye(4)
    affine[:3, :3] = rotation * zooms
    affine[:3, 3] = (qx, qy, qz)
    return affine
