#!/usr/bin/env python3
"""Write the example data sets (and serve as the mask writers the tests use).

    python examples/make_examples.py          # rewrites examples/{png,nifti,dicom}/

Deterministic: a fixed seed, so the files (and the outputs quoted in the READMEs) do not change.
Needs numpy, nibabel, pillow and pydicom (all dicecli dependencies).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# -- writers ------------------------------------------------------------------------------------


def write_nifti(
    path: str,
    array: np.ndarray,
    spacing: Sequence[float] = (1, 1, 1),
    affine: np.ndarray | None = None,
) -> str:
    """A NIfTI file of ``array`` (indexed x, y, z) with the given spacing (or affine)."""
    import nibabel as nib

    if affine is None:
        affine = np.diag(list(spacing) + [1.0] * (4 - len(spacing)))
    img = nib.Nifti1Image(array, affine)
    img.header.set_data_dtype(array.dtype)
    nib.save(img, path)
    return path


def write_png(path: str, array: np.ndarray, palette: bool = False) -> str:
    """A PNG of a 2D ``array`` indexed (x, y); ``palette`` writes a mode-P image."""
    from PIL import Image

    rows = np.ascontiguousarray(array.T)
    if palette:
        img = Image.fromarray(rows.astype(np.uint8), mode="P")
        colours = [0, 0, 0, 230, 25, 75, 60, 180, 75, 255, 225, 25, 0, 130, 200]
        img.putpalette(colours + [0] * (768 - len(colours)))
    else:
        img = Image.fromarray(rows)
    img.save(path)
    return path


def write_dicom_series(
    folder: str,
    volume: np.ndarray,
    spacing: Sequence[float] = (1, 1, 1),
    origin: Sequence[float] = (0, 0, 0),
    series_uid: str | None = None,
    shuffle_names: bool = True,
) -> str:
    """One DICOM file per slice of ``volume`` (indexed x, y, z), MONOCHROME2 uint16.

    File names are deliberately not in slice order (``shuffle_names``): readers must sort by
    ImagePositionPatient.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    os.makedirs(folder, exist_ok=True)
    series_uid = series_uid or generate_uid()
    study_uid, frame_uid = generate_uid(), generate_uid()
    nz = volume.shape[2]
    order = np.random.default_rng(nz).permutation(nz) if shuffle_names else np.arange(nz)
    for k in range(nz):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PatientID = "CT", "DICECLI-EXAMPLE"
        ds.PatientName, ds.PatientBirthDate, ds.PatientSex = "Example^Patient", "19700101", "O"
        ds.StudyID, ds.StudyDate, ds.StudyTime = "1", "20260101", "120000"
        ds.AccessionNumber, ds.ReferringPhysicianName = "", ""
        ds.SeriesNumber, ds.Manufacturer = 1, "dicecli examples"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.FrameOfReferenceUID, ds.InstanceNumber = frame_uid, k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [
            float(origin[0]),
            float(origin[1]),
            float(origin[2] + k * spacing[2]),
        ]
        ds.PixelSpacing = [float(spacing[1]), float(spacing[0])]  # row spacing, column spacing
        ds.SliceThickness = float(spacing[2])
        ds.Rows, ds.Columns = volume.shape[1], volume.shape[0]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.ascontiguousarray(volume[:, :, k].T.astype(np.uint16)).tobytes()
        ds.save_as(os.path.join(folder, f"IM{order[k]:04d}.dcm"), enforce_file_format=True)
    return folder


# -- synthetic anatomy ------------------------------------------------------------------------


def organs(
    shape: Sequence[int],
    rng: np.random.Generator,
    centres: Sequence[Sequence[float]],
    radii: Sequence[Sequence[float]],
) -> np.ndarray:
    """Label map with one ellipsoid (or ellipse) per label, boundaries roughened by noise."""
    grid = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij")
    out = np.zeros(shape, np.uint8)
    for label, (c, r) in enumerate(zip(centres, radii, strict=True), start=1):
        d = sum(((g - ci) / ri) ** 2 for g, ci, ri in zip(grid, c, r, strict=True))
        rough = 1.0 + 0.08 * rng.standard_normal(shape).astype(np.float32)
        out[d < rough] = label
    return out


def imperfect(labels: np.ndarray, rng: np.random.Generator, drop: int | None = None) -> np.ndarray:
    """A plausible prediction: shifted by a voxel, boundary noise, optionally missing one label."""
    pred = np.roll(labels, shift=1, axis=0)
    flip = (rng.random(labels.shape) < 0.02) & (labels > 0)
    pred[flip] = 0
    if drop is not None:
        pred[pred == drop] = 0
    return pred


def make_png(root: str) -> None:
    rng = np.random.default_rng(2)
    for sub in ("gt", "pred"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for i in range(1, 5):
        gt = organs((96, 96), rng, [(40 + i, 45), (66, 60 - i)], [(18, 14), (9, 11)])
        pred = imperfect(gt, rng, drop=2 if i == 4 else None)
        write_png(os.path.join(root, "gt", f"case_{i:02d}.png"), gt, palette=True)
        # predictions as 8-bit grey-level label maps
        write_png(os.path.join(root, "pred", f"case_{i:02d}.png"), pred)


def make_nifti(root: str) -> None:
    rng = np.random.default_rng(3)
    spacing = (0.8, 0.8, 2.5)
    for sub in ("gt", "pred"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for i in range(1, 6):
        gt = organs(
            (80, 72, 24),
            rng,
            [(30 + i, 38, 12), (58, 30, 11), (52, 52, 10)],
            [(16, 14, 7), (8, 7, 5), (5, 6, 4)],
        )
        pred = imperfect(gt, rng, drop=3 if i == 5 else None)
        write_nifti(os.path.join(root, "gt", f"patient{i:03d}.nii.gz"), gt, spacing)
        write_nifti(os.path.join(root, "pred", f"patient{i:03d}.nii.gz"), pred, spacing)


def make_dicom(root: str) -> None:
    rng = np.random.default_rng(4)
    spacing, origin = (0.7, 0.7, 3.0), (-20.0, -25.0, 100.0)
    for i in range(1, 3):
        gt = organs((48, 40, 10), rng, [(22, 20, 5)], [(12, 10, 4)])
        pred = imperfect(gt, rng)
        write_dicom_series(os.path.join(root, "gt", f"study{i}"), gt, spacing, origin)
        write_dicom_series(os.path.join(root, "pred", f"study{i}"), pred, spacing, origin)


def main(argv: Sequence[str]) -> None:
    for name, make in (("png", make_png), ("nifti", make_nifti), ("dicom", make_dicom)):
        root = os.path.join(HERE, name)
        for sub in ("gt", "pred"):
            shutil.rmtree(os.path.join(root, sub), ignore_errors=True)
        make(root)
        print(f"wrote {root}")


if __name__ == "__main__":
    main(sys.argv[1:])
