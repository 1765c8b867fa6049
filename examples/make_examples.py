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
    intercept: float = 0.0,
) -> str:
    """One DICOM file per slice of ``volume`` (indexed x, y, z), MONOCHROME2 uint16, stored as
    ``volume - intercept`` with that RescaleIntercept (CT: -1024 stores HU as unsigned).

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
        if intercept:
            ds.RescaleIntercept, ds.RescaleSlope = intercept, 1
        stored = np.clip(volume[:, :, k] - intercept, 0, 65535)
        ds.PixelData = np.ascontiguousarray(stored.T.astype(np.uint16)).tobytes()
        ds.save_as(os.path.join(folder, f"IM{order[k]:04d}.dcm"), enforce_file_format=True)
    return folder


def _series(folder: str) -> list:
    import pydicom

    datasets = [pydicom.dcmread(os.path.join(folder, n)) for n in sorted(os.listdir(folder))]
    return sorted(datasets, key=lambda d: float(d.ImagePositionPatient[2]))


def write_seg(
    path: str, series_folder: str, segments: np.ndarray, names: Sequence[str], kind: str = "BINARY"
) -> str:
    """A DICOM SEG (highdicom) of boolean ``segments`` (x, y, z, n) -- or fractional values in
    [0, 1] for FRACTIONAL -- on the series in ``series_folder``; empty frames are omitted."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    source = _series(series_folder)
    pixels = np.transpose(segments, (2, 1, 0, 3))  # (x, y, z, n) -> (z, rows, cols, n)
    if kind == "LABELMAP":
        labels = np.zeros(pixels.shape[:3], np.uint8)
        for i in reversed(range(pixels.shape[3])):
            labels[pixels[..., i] > 0] = i + 1
        pixels = labels
    elif kind == "BINARY":
        pixels = pixels.astype(bool)
    else:
        pixels = pixels.astype(np.float32)
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=i + 1,
            segment_label=name,
            segmented_property_category=codes.SCT.Organ,
            segmented_property_type=codes.SCT.Organ,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for i, name in enumerate(names)
    ]
    seg = hd.seg.Segmentation(
        source_images=source,
        pixel_array=pixels,
        segmentation_type=kind,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=100,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="dicecli examples",
        manufacturer_model_name="make_examples",
        software_versions="1",
        device_serial_number="1",
    )
    seg.save_as(path)
    return path


def write_rtstruct(
    path: str, series_folder: str, rois: dict[str, list[tuple[int, Sequence[tuple[float, float]]]]]
) -> str:
    """An RT Structure Set whose ROIs are lists of (slice index, polygon in voxel index
    coordinates x, y); written with pydicom on the geometry of ``series_folder``."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import ExplicitVRLittleEndian, RTStructureSetStorage, generate_uid

    source = _series(series_folder)
    first = source[0]
    origin = np.asarray(first.ImagePositionPatient, float)
    col_spacing, row_spacing = float(first.PixelSpacing[1]), float(first.PixelSpacing[0])
    z_step = float(source[1].ImagePositionPatient[2]) - origin[2] if len(source) > 1 else 1.0
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = RTStructureSetStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = RTStructureSetStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID = "RTSTRUCT", first.PatientID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = first.StudyInstanceUID, generate_uid()
    ds.FrameOfReferenceUID = first.FrameOfReferenceUID
    series = Dataset()
    series.SeriesInstanceUID = first.SeriesInstanceUID
    study = Dataset()
    study.ReferencedSOPInstanceUID = first.StudyInstanceUID
    study.RTReferencedSeriesSequence = DicomSequence([series])
    frame = Dataset()
    frame.FrameOfReferenceUID = first.FrameOfReferenceUID
    frame.RTReferencedStudySequence = DicomSequence([study])
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([frame])
    ds.StructureSetROISequence = DicomSequence()
    ds.ROIContourSequence = DicomSequence()
    for number, (name, contours) in enumerate(rois.items(), start=1):
        roi = Dataset()
        roi.ROINumber, roi.ROIName = number, name
        roi.ReferencedFrameOfReferenceUID = first.FrameOfReferenceUID
        ds.StructureSetROISequence.append(roi)
        item = Dataset()
        item.ReferencedROINumber = number
        item.ContourSequence = DicomSequence()
        for k, polygon in contours:
            contour = Dataset()
            contour.ContourGeometricType = "CLOSED_PLANAR"
            points = [
                (origin[0] + x * col_spacing, origin[1] + y * row_spacing, origin[2] + k * z_step)
                for x, y in polygon
            ]
            contour.NumberOfContourPoints = len(points)
            contour.ContourData = [float(v) for p in points for v in p]
            item.ContourSequence.append(contour)
        ds.ROIContourSequence.append(item)
    ds.save_as(path, enforce_file_format=True)
    return path


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


def make_dicom_seg(root: str) -> None:
    """A CT series (ct/case1/), its expert segmentation as a DICOM SEG with two named, overlapping
    segments (gt/case1.dcm), and a model's prediction as a NIfTI label map (pred/case1.nii.gz)
    stored in nibabel's canonical RAS orientation, so its array is flipped against the series."""
    import nibabel as nib

    rng = np.random.default_rng(5)
    shape, spacing, origin = (48, 40, 10), (0.75, 0.75, 3.0), (-18.0, -15.0, 120.0)
    anatomy = organs(shape, rng, [(22, 20, 5), (28, 22, 5)], [(13, 11, 4), (5, 5, 2)])
    ct = np.full(shape, -1000, np.int16)
    ct[organs(shape, rng, [(24, 20, 5)], [(22, 18, 9)]) > 0] = 40
    ct[anatomy == 1] = 60
    ct[anatomy == 2] = 90
    ct += rng.normal(0, 15, shape).astype(np.int16)
    series = os.path.join(root, "ct", "case1")
    write_dicom_series(series, ct, spacing, origin, intercept=-1024)  # stored as HU + 1024
    liver = anatomy > 0  # the tumour lies inside the liver: the segments overlap
    tumour = anatomy == 2
    os.makedirs(os.path.join(root, "gt"), exist_ok=True)
    write_seg(
        os.path.join(root, "gt", "case1.dcm"),
        series,
        np.stack([liver, tumour], axis=-1),
        ["Liver", "Tumor"],
    )
    pred = imperfect(np.where(tumour, 2, np.where(liver, 1, 0)).astype(np.uint8), rng)
    lps = np.diag([*spacing, 1.0])
    lps[:3, 3] = origin
    image = nib.Nifti1Image(pred, np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps)
    os.makedirs(os.path.join(root, "pred"), exist_ok=True)
    nib.save(nib.as_closest_canonical(image), os.path.join(root, "pred", "case1.nii.gz"))


def make_compare(root: str) -> None:
    """15 CT-like cases, two structures, and two models: model_b misses less of the boundary than
    model_a (fewer dropped voxels, no shift on most cases), and misses the spleen twice less."""
    rng = np.random.default_rng(15)
    spacing = (0.9, 0.9, 3.0)
    for sub in ("gt", "model_a", "model_b"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for i in range(1, 16):
        gt = organs(
            (48, 40, 14),
            rng,
            [(18 + i % 4, 20, 7), (34, 14 + i % 3, 6)],
            [(10, 9, 4), (5, 4, 3)],
        )
        a = imperfect(gt, rng, drop=2 if i in (4, 9) else None)
        b = np.roll(gt, shift=1, axis=0) if i % 5 == 0 else gt.copy()
        b[(rng.random(gt.shape) < 0.04) & (b > 0)] = 0
        name = f"case{i:02d}.nii.gz"
        write_nifti(os.path.join(root, "gt", name), gt, spacing)
        write_nifti(os.path.join(root, "model_a", name), a, spacing)
        write_nifti(os.path.join(root, "model_b", name), b, spacing)


def make_lesions(root: str) -> None:
    """Five cases of small metastasis-like lesions (label 1) at 1×1×2 mm: the model finds most,
    misses some small ones, invents a few, splits one and merges two neighbours."""
    rng = np.random.default_rng(14)
    shape, spacing = (64, 64, 24), (1.0, 1.0, 2.0)
    for sub in ("gt", "pred"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    grid = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij")
    for i in range(1, 6):
        gt = np.zeros(shape, np.uint8)
        pred = np.zeros(shape, np.uint8)
        for k in range(6 + i):
            centre = rng.uniform((8, 8, 4), (56, 56, 20))
            radius = rng.uniform(1.5, 5.0)
            ball = (
                sum(
                    ((g - c) / r) ** 2
                    for g, c, r in zip(grid, centre, (radius, radius, radius / 2), strict=True)
                )
                < 1
            )
            gt[ball] = 1
            if radius < 2.2 and k % 2 == 0:
                continue  # a small lesion the model misses
            shifted = (
                sum(
                    ((g - c - 0.25) / r) ** 2
                    for g, c, r in zip(grid, centre, (radius, radius, radius / 2), strict=True)
                )
                < 1
            )
            pred[shifted] = 1
        for _ in range(i % 3):  # invented lesions
            c = rng.uniform((8, 8, 4), (56, 56, 20))
            pred[sum(((g - ci) / 1.5) ** 2 for g, ci in zip(grid, c, strict=True)) < 1] = 1
        if i == 3:
            pred[:, 31:33, :] = 0  # a cut through the middle splits whatever lies there
        name = f"patient{i:02d}.nii.gz"
        write_nifti(os.path.join(root, "gt", name), gt, spacing)
        write_nifti(os.path.join(root, "pred", name), pred, spacing)


#: A few of TotalSegmentator's classes, with the values of its class map (map_to_binary.py).
TOTALSEG = {
    "spleen": 1,
    "kidney_right": 2,
    "kidney_left": 3,
    "gallbladder": 4,
    "liver": 5,
    "stomach": 6,
    "pancreas": 7,
    "aorta": 52,
}


def make_totalseg(root: str) -> None:
    """Two CT cases at 1.5 mm: TotalSegmentator's default output (pred/s0001/, one binary NIfTI
    per structure, empty files for structures it did not find, statistics.json and a preview
    PNG beside them) against the reference label maps (gt/s0001.nii.gz) in TotalSegmentator's
    own values, named by an nnU-Net dataset.json beside them that also defines a region."""
    import json

    from PIL import Image

    rng = np.random.default_rng(16)
    spacing = (1.5, 1.5, 1.5)
    centres = [(44, 22, 20), (22, 34, 14), (42, 34, 14), (30, 12, 18), (18, 20, 20), (40, 14, 24),
               (32, 26, 18), (32, 36, 20)]  # fmt: skip
    radii = [(6, 5, 5), (4, 4, 6), (4, 4, 6), (3, 2, 2), (10, 9, 8), (7, 5, 4), (6, 2, 2),
             (2, 2, 12)]  # fmt: skip
    values = list(TOTALSEG.values())
    for sub in ("gt", "pred"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for i in (1, 2):
        ordinal = organs((56, 48, 40), rng, centres, radii)
        gt = np.zeros_like(ordinal)
        for k, value in enumerate(values, start=1):
            gt[ordinal == k] = value
        pred = imperfect(gt, rng, drop=TOTALSEG["gallbladder"] if i == 2 else None)
        case = f"s{i:04d}"
        write_nifti(os.path.join(root, "gt", f"{case}.nii.gz"), gt, spacing)
        folder = os.path.join(root, "pred", case)
        os.makedirs(folder, exist_ok=True)
        for name, value in TOTALSEG.items():
            write_nifti(os.path.join(folder, f"{name}.nii.gz"), (pred == value).astype(np.uint8),
                        spacing)  # fmt: skip
        volumes = {n: float((pred == v).sum()) * 3.375 for n, v in TOTALSEG.items()}
        with open(os.path.join(folder, "statistics.json"), "w", encoding="utf-8") as f:
            json.dump({n: {"volume": v} for n, v in volumes.items()}, f, indent=4)
        preview = (np.asarray(pred[:, :, 20]).T > 0).astype(np.uint8) * 255
        Image.fromarray(preview).save(os.path.join(folder, "preview_total.png"))
    table = {"background": 0, **TOTALSEG, "kidneys": [2, 3]}
    with open(os.path.join(root, "gt", "dataset.json"), "w", encoding="utf-8") as f:
        json.dump({"name": "abdomen CT, TotalSegmentator classes", "labels": table}, f, indent=1)


def make_rank(root: str) -> None:
    """Five submissions' per-case results (dicecli's CSV columns) on 30 cases and two
    structures: team_a best, team_b and team_c within noise of each other (they swap under
    resampling), team_e the weakest and missing three tumour cases."""
    import csv

    rng = np.random.default_rng(17)
    os.makedirs(root, exist_ok=True)
    cases = [f"case{i:02d}" for i in range(1, 31)]
    difficulty = {label: rng.uniform(0.0, 0.25, len(cases)) for label in ("liver", "tumor")}
    teams = {"team_a": 0.0, "team_b": 0.035, "team_c": 0.04, "team_d": 0.07, "team_e": 0.12}
    for team, offset in teams.items():
        with open(os.path.join(root, f"{team}.csv"), "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(["case", "label", "values", "dice", "hd95"])
            for label, value in (("liver", 1), ("tumor", 2)):
                base = 0.95 if label == "liver" else 0.82
                for i, case in enumerate(cases):
                    if team == "team_e" and label == "tumor" and i in (4, 11, 23):
                        continue  # cases the submission did not deliver
                    noise = rng.normal(0, 0.03 if label == "liver" else 0.06)
                    dice = float(np.clip(base - difficulty[label][i] - offset + noise, 0, 1))
                    hd95 = round(float(2 + 40 * (1 - dice) + abs(rng.normal(0, 1.5))), 2)
                    out.writerow([case, label, value, round(dice, 4), hd95])


def _outline(
    field: np.ndarray, level: float, wobble: float, rng: np.random.Generator
) -> np.ndarray:
    """Where one reader draws a structure's boundary: the level set of the anatomy's field,
    moved by the reader's bias and by smooth (low-frequency) hesitation along the boundary."""
    from scipy.ndimage import gaussian_filter

    noise = gaussian_filter(rng.standard_normal(field.shape), sigma=(3, 3, 1))
    noise /= max(float(noise.std()), 1e-9)
    return field < level + wobble * noise


def make_raters(root: str) -> None:
    """12 CT-like cases outlined by three readers who disagree at the boundary as readers do
    (one generous, one tight, one hesitant), and a model: close to the readers on the liver,
    tighter than all of them on the small tumour."""
    rng = np.random.default_rng(22)
    spacing = (0.9, 0.9, 3.0)
    readers = {"reader_a": (0.05, 0.06), "reader_b": (-0.04, 0.06), "reader_c": (0.0, 0.1)}
    model = {1: (0.03, 0.09), 2: (-0.25, 0.08)}
    for sub in (*readers, "model"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    shape = (48, 40, 14)
    grid = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    for i in range(1, 13):
        liver_c = (20 + i % 3, 20, 7)
        tumour_c = (16 + i % 3, 17 + i % 2, 7)
        fields = {
            1: sum(((g - c) / r) ** 2 for g, c, r in zip(grid, liver_c, (12, 10, 5), strict=True)),
            2: sum(((g - c) / r) ** 2 for g, c, r in zip(grid, tumour_c, (4, 3.5, 2), strict=True)),
        }
        masks = {}
        for name, (bias, wobble) in readers.items():
            labels = np.zeros(shape, np.uint8)
            for value in (1, 2):  # the tumour drawn over the liver
                labels[_outline(fields[value], 1 + bias * value, wobble * value, rng)] = value
            masks[name] = labels
        labels = np.zeros(shape, np.uint8)
        for value in (1, 2):
            bias, wobble = model[value]
            labels[_outline(fields[value], 1 + bias, wobble, rng)] = value
        masks["model"] = labels
        for sub, labels in masks.items():
            write_nifti(os.path.join(root, sub, f"case{i:02d}.nii.gz"), labels, spacing)
    with open(os.path.join(root, "dataset.json"), "w", encoding="utf-8") as f:
        f.write('{"labels": {"background": 0, "liver": 1, "tumour": 2}}\n')


def main(argv: Sequence[str]) -> None:
    makers = (
        ("png", make_png),
        ("nifti", make_nifti),
        ("dicom", make_dicom),
        ("dicom-seg", make_dicom_seg),
        ("compare", make_compare),
        ("lesions", make_lesions),
        ("totalseg", make_totalseg),
        ("rank", make_rank),
        ("raters", make_raters),
    )
    for name, make in makers:
        root = os.path.join(HERE, name)
        for sub in ("gt", "pred", "ct", "model_a", "model_b", "model", "reader_a", "reader_b",
                    "reader_c"):  # fmt: skip
            shutil.rmtree(os.path.join(root, sub), ignore_errors=True)
        make(root)
        print(f"wrote {root}")


if __name__ == "__main__":
    main(sys.argv[1:])
