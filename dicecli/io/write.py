"""Masks dicecli makes written as NIfTI (``--write-consensus``): a label map as one file, a
segmented mask as a folder of per-structure files (``name.nii.gz``, which dicecli reads back as
the same structures), each written beside its target first and renamed into place."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import Any

import numpy as np

from dicecli.errors import DiceCliError
from dicecli.models import Mask

_UNSAFE = re.compile(r"[^\w.\- ]+")


def ras_affine(mask: Mask) -> Any:
    """The 4x4 RAS affine of a mask's LPS grid (``io._geometry.from_ras_affine`` inverted)."""
    n = mask.ndim
    linear = np.eye(3)
    origin = np.zeros(3)
    linear[:n, :n] = np.asarray(mask.direction, dtype=float).reshape(n, n) * np.asarray(
        mask.spacing, dtype=float
    )
    origin[:n] = mask.origin
    affine = np.eye(4)
    affine[:3, :3] = np.diag([-1.0, -1.0, 1.0]) @ linear
    affine[:3, 3] = np.diag([-1.0, -1.0, 1.0]) @ origin
    return affine


def safe_name(name: str) -> str:
    """A structure or case name as a file name: path separators and odd characters become _."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    return cleaned or "unnamed"


def write_consensus(folder: str, case: str, mask: Mask) -> str:
    """Write ``mask`` for ``case`` into ``folder``: ``case.nii.gz``, or ``case/`` holding one
    ``structure.nii.gz`` per segment; returns the path written."""
    try:
        os.makedirs(folder, exist_ok=True)
        if not mask.segments:
            target = os.path.join(folder, safe_name(case) + ".nii.gz")
            _atomic_file(target, lambda path: _save(path, mask, np.asarray(mask.array)))
            return target
        target = os.path.join(folder, safe_name(case))
        staging = tempfile.mkdtemp(prefix=".dicecli-", dir=folder)
        os.chmod(staging, 0o777 & ~_umask())
        try:
            for segment in mask.segments:
                name = os.path.join(staging, safe_name(segment.label) + ".nii.gz")
                _save(name, mask, np.asarray(segment.array, dtype=np.uint8))
            _replace_folder(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target
    except OSError as e:
        raise DiceCliError(
            f"--write-consensus {folder}: cannot write case {case} there ({e.strerror or e})"
        ) from e


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _save(path: str, grid: Mask, array: Any) -> None:
    import nibabel as nib

    data = array.astype(np.uint8) if array.dtype == bool else array
    image = nib.Nifti1Image(np.asarray(data), ras_affine(grid))
    image.header.set_data_dtype(data.dtype)
    image.header.set_qform(image.affine, code=1)
    image.header.set_sform(image.affine, code=1)
    nib.save(image, path)


def _atomic_file(target: str, write: Any) -> None:
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".dicecli-", suffix=".nii.gz", dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _replace_folder(staging: str, target: str) -> None:
    """``staging`` renamed to ``target``; an earlier ``target`` is moved aside first and
    removed after, so ``target`` is never a mix of two runs."""
    old = None
    if os.path.exists(target):
        old = tempfile.mkdtemp(prefix=".dicecli-old-", dir=os.path.dirname(target))
        os.rmdir(old)
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
