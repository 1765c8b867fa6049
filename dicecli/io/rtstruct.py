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

from dicecli.errors import MALFORMED_HEADER, DiceCliError, MaskReadError, first_line
from dicecli.io._limits import ReadOptions
from dicecli.io._reference import find_series
from dicecli.io._segments import dicom_ids, segments_mask
from dicecli.models import Mask, Segment


def read_rtstruct(path: str, options: ReadOptions) -> Mask:
    """An RT Structure Set as a mask of its ROIs; a malformed one is a one-line error."""
    try:
        return _read(path, options)
    except DiceCliError:
        raise
    except MALFORMED_HEADER as e:
        raise MaskReadError(
            f"{path}: a malformed RT Structure Set ({type(e).__name__}: {first_line(e)}); "
            "re-export it"
        ) from e


def _read(path: str, options: ReadOptions) -> Mask:
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
    shape = image.array.shape
    direction = np.asarray(image.direction, dtype=float).reshape(3, 3)
    to_index = np.linalg.inv(direction * np.asarray(image.spacing))
    origin = np.asarray(image.origin, dtype=float)
    polygons = []
    for contour in getattr(roi, "ContourSequence", []):
        kind = str(getattr(contour, "ContourGeometricType", "CLOSED_PLANAR"))
        try:
            points = np.asarray(contour.ContourData, dtype=float).reshape(-1, 3)
        except (AttributeError, TypeError, ValueError):
            notes.append(f"{where}: a contour without readable ContourData (x, y, z); left out")
            continue
        if kind != "CLOSED_PLANAR" or len(points) < 3:
            notes.append(f"{where}: a {kind} contour is not an area; left out")
            continue
        if not np.isfinite(points).all():
            notes.append(f"{where}: a contour with NaN or infinite coordinates; left out")
            continue
        index = (points - origin) @ to_index.T
        k = round(float(index[:, 2].mean()))
        if np.abs(index[:, 2] - k).max() > 0.01 or not 0 <= k < shape[2]:
            notes.append(f"{where}: a contour lies off the image slices; left out")
            continue
        polygons.append((k, index[:, 0], index[:, 1]))
    mask = np.zeros(shape, dtype=bool, order="F")
    fill_polygons(mask, polygons)
    return mask


def fill_polygons(mask: np.ndarray, polygons: list[tuple[int, np.ndarray, np.ndarray]]) -> None:
    """Toggle (even-odd) the voxels of ``mask`` (x, y, slice) whose centres -- integer (i, j)
    of slice k -- lie inside the closed polygons (k, x, y) given in index units, by scanlines;
    all the polygons of an ROI at once.

    The rule is matplotlib's ``Path.contains_points`` (the crossing test of its ``_path.h``,
    which dicecli used before, evaluated with the same floating-point expressions), so a centre
    on an edge falls on the same side as before: an edge crosses row j when exactly one of its
    ends has y >= j; it then toggles the centres left of its crossing, those with
    ``((y1 - j) * (x0 - x1) >= (x1 - i) * (y0 - y1)) == (y1 >= j)``. A closed polygon crosses
    each row an even number of times, so it toggles nothing outside its bounding box (which is
    all the old code tested) and the contours of an ROI combine by the even-odd rule as they
    did. Each crossing toggles a prefix of its row: a row is filled from its sorted crossings,
    O(edges + voxels) instead of O(edges x voxels of the box).
    """
    if not polygons:
        return
    nx, ny, _ = mask.shape
    sizes = np.array([len(x) for _, x, _ in polygons])
    x0 = np.concatenate([x for _, x, _ in polygons])
    y0 = np.concatenate([y for _, _, y in polygons])
    slices = np.repeat(np.array([k for k, _, _ in polygons]), sizes)
    starts = np.cumsum(sizes) - sizes
    following = np.arange(len(x0)) + 1  # edge e runs from vertex e to the next of its polygon
    following[starts + sizes - 1] = starts
    x1, y1 = x0[following], y0[following]
    # rows j in (min(y0, y1), max(y0, y1)] are crossed: exactly one end has y >= j
    first = np.maximum(np.floor(np.minimum(y0, y1)).astype(np.int64) + 1, 0)
    last = np.minimum(np.floor(np.maximum(y0, y1)).astype(np.int64), ny - 1)
    counts = np.maximum(last - first + 1, 0)
    total = int(counts.sum())
    if total == 0:
        return
    edge = np.repeat(np.arange(len(x0)), counts)
    row = np.repeat(first - (np.cumsum(counts) - counts), counts) + np.arange(total)
    ty = row.astype(np.float64)
    ex0, ey0, ex1, ey1 = x0[edge], y0[edge], x1[edge], y1[edge]
    up = ey1 >= ty

    def toggled(tx: np.ndarray) -> np.ndarray:
        return np.asarray(((ey1 - ty) * (ex0 - ex1) >= (ex1 - tx) * (ey0 - ey1)) == up)

    # where the row meets the edge; the first centre not toggled lies within 2 of it
    near = np.floor(ex1 + (ty - ey1) * (ex0 - ex1) / (ey0 - ey1)).astype(np.int64) - 2
    threshold = near + 5
    for step in range(4, -1, -1):  # toggled left of the threshold, not from it on
        candidate = near + step
        threshold = np.where(~toggled(candidate.astype(np.float64)), candidate, threshold)
    at_edge = threshold == near
    if at_edge.any() and (~toggled((near - 1).astype(np.float64)))[at_edge].any():
        raise AssertionError("a polygon crossing outside its search window")  # pragma: no cover
    k = slices[edge]
    lo_k, hi_k = int(k.min()), int(k.max()) + 1
    lo_j, hi_j = int(row.min()), int(row.max()) + 1
    # inside lies between the leftmost and the rightmost crossing (clipped to the plane)
    lo_i = min(max(int(threshold.min()), 0), nx)
    hi_i = min(max(int(threshold.max()), 0), nx)
    if hi_i <= lo_i:
        return
    width = hi_i - lo_i
    rows = (k - lo_k) * (hi_j - lo_j) + (row - lo_j)
    flips = np.zeros(((hi_k - lo_k) * (hi_j - lo_j), width + 1), dtype=np.uint8)
    np.bitwise_xor.at(flips, (rows, np.clip(threshold - lo_i, 0, width)), 1)
    inside = np.bitwise_xor.accumulate(flips[:, :width], axis=1).astype(bool)
    window = inside.reshape(hi_k - lo_k, hi_j - lo_j, width).transpose(2, 1, 0)
    mask[lo_i:hi_i, lo_j:hi_j, lo_k:hi_k] ^= window


def fill_polygon(plane: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """``fill_polygons`` of one polygon on one plane (x, y)."""
    fill_polygons(plane[:, :, None], [(0, np.asarray(x, float), np.asarray(y, float))])
