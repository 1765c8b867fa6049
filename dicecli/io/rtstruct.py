"""RT Structure Sets: each ROI's closed planar contours rasterised onto the referenced series.

Rule: a voxel belongs to an ROI when its centre lies inside the contour polygon on its slice;
contours of one ROI on one slice combine by the even-odd rule (a contour inside another is a hole).
Contours must lie on image slices (within 1 % of the slice spacing); open contours and points are
left out with a warning.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.io._limits import ReadOptions
from dicecli.io._reference import find_series
from dicecli.io._segments import dicom_ids, segments_mask
from dicecli.models import Mask, Segment


def read_rtstruct(path: str, options: ReadOptions) -> Mask:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path)
        except Exception as e:
            raise MaskReadError(f"{path}: not a readable RT Structure Set ({e})") from e
    names = {int(r.ROINumber): str(r.ROIName) for r in getattr(ds, "StructureSetROISequence", [])}
    series_uid, frame = _references(ds)
    from dicecli.io.dicom import read_series

    folder = find_series(path, series_uid, frame, options.reference_image, "RT Structure Set")
    assert folder is not None  # not optional: contours need the image grid
    image, _ = read_series(folder, options, images_only=True)
    if image.array.ndim != 3:
        raise MaskReadError(f"{path}: the referenced series {folder} is not a 3D volume")
    notes: list[str] = []
    segments = []
    for roi in getattr(ds, "ROIContourSequence", []):
        number = int(roi.ReferencedROINumber)
        mask = _rasterise(roi, image, f"{path} ROI {names.get(number, number)}", notes)
        segments.append(Segment(number, names.get(number, str(number)), mask))
    if not segments:
        raise MaskReadError(f"{path}: the RT Structure Set has no ROI contours")
    result = segments_mask(path, image, segments, dicom_ids(ds), "dicom-rtstruct")
    return replace(result, warnings=tuple(notes))


def _references(ds: Any) -> tuple[str | None, str | None]:
    for frame in getattr(ds, "ReferencedFrameOfReferenceSequence", []):
        for study in getattr(frame, "RTReferencedStudySequence", []):
            for series in getattr(study, "RTReferencedSeriesSequence", []):
                return str(series.SeriesInstanceUID), str(frame.FrameOfReferenceUID)
        return None, str(frame.FrameOfReferenceUID)
    return None, None


def _rasterise(roi: Any, image: Mask, where: str, notes: list[str]) -> np.ndarray:
    from matplotlib.path import Path

    shape = image.array.shape
    direction = np.asarray(image.direction, dtype=float).reshape(3, 3)
    to_index = np.linalg.inv(direction * np.asarray(image.spacing))
    origin = np.asarray(image.origin, dtype=float)
    mask = np.zeros(shape, dtype=bool, order="F")
    for contour in getattr(roi, "ContourSequence", []):
        kind = str(getattr(contour, "ContourGeometricType", "CLOSED_PLANAR"))
        points = np.asarray(contour.ContourData, dtype=float).reshape(-1, 3)
        if kind != "CLOSED_PLANAR" or len(points) < 3:
            notes.append(f"{where}: a {kind} contour is not an area; left out")
            continue
        index = (points - origin) @ to_index.T
        k = round(float(index[:, 2].mean()))
        if np.abs(index[:, 2] - k).max() > 0.01 or not 0 <= k < shape[2]:
            notes.append(f"{where}: a contour lies off the image slices; left out")
            continue
        polygon = Path(index[:, :2], closed=False)
        lo = np.maximum(np.floor(index[:, :2].min(axis=0)).astype(int), 0)
        hi = np.minimum(np.ceil(index[:, :2].max(axis=0)).astype(int) + 1, shape[:2])
        if np.any(hi <= lo):
            continue
        ii, jj = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]), indexing="ij")
        inside = polygon.contains_points(np.column_stack([ii.ravel(), jj.ravel()]))
        mask[lo[0] : hi[0], lo[1] : hi[1], k] ^= inside.reshape(ii.shape)  # even-odd
    return mask
