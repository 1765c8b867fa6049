"""DICOM Segmentation objects (BINARY, FRACTIONAL, LABELMAP) through highdicom.

The grid is the referenced image series when it can be found (``--reference-image``, or beside
the SEG by SeriesInstanceUID or Frame of Reference): frames are placed by their source images
when the SEG declares that spatial locations are preserved, else by their plane positions.
Without the series, the SEG's own frames define the grid (their plane positions, orientation and
pixel spacing, as highdicom builds the volume); slices a writer left out read as empty.
Each segment becomes its own boolean volume (segments may overlap); fractional segments are
``value > --threshold`` (default 0.5). Segment 0 of a LABELMAP SEG is its background.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from dicecli.errors import DiceCliError, MaskReadError, UnsupportedFormatError, first_line
from dicecli.io._limits import ReadOptions
from dicecli.io._reference import find_series
from dicecli.io._segments import dicom_ids, segments_mask
from dicecli.models import SEG_OWN_GRID, Mask, Segment

TYPES = ("BINARY", "FRACTIONAL", "LABELMAP")


def read_seg(path: str, options: ReadOptions) -> Mask:
    """A SEG as a mask of segments; highdicom's own failures on a malformed file (it may raise
    anything, down to sqlite's ``OperationalError`` from its frame index) are one-line errors."""
    try:
        return _read(path, options)
    except DiceCliError:
        raise
    except MemoryError:
        raise
    except Exception as e:  # a third party's failure on a file it cannot read
        raise MaskReadError(
            f"{path}: highdicom cannot read this SEG ({type(e).__name__}: {first_line(e)}); "
            "re-export it"
        ) from e


def _read(path: str, options: ReadOptions) -> Mask:
    seg = _open(path)
    numbers = list(seg.get_segment_numbers())
    threshold = options.threshold if str(seg.SegmentationType) == "FRACTIONAL" else 0
    sources = seg.get_source_image_uids()  # (study, series, SOP instance) per source image
    series = sorted({s for _, s, _ in sources})
    if len(series) > 1:
        raise MaskReadError(
            f"{path}: the SEG refers to {len(series)} image series; dicecli scores a SEG made "
            "on one series"
        )
    frame = str(getattr(seg, "FrameOfReferenceUID", "")) or None
    folder = find_series(
        path, series[0] if series else None, frame, options.reference_image, "SEG", optional=True
    )
    if folder is None:
        image, volume = _own_grid(path, seg, numbers, threshold)
        grid = SEG_OWN_GRID
    else:
        from dicecli.io.dicom import read_series

        image, headers = read_series(folder, options, images_only=True)
        referenced = {sop for _, _, sop in sources}
        volume = _on_series(path, seg, image, headers, referenced, numbers, threshold, folder)
        grid = f"the referenced series in {folder}"
        if volume.shape[: image.array.ndim] != image.array.shape:
            raise MaskReadError(
                f"{path}: the SEG's frames ({getattr(seg, 'Rows', '?')} rows x "
                f"{getattr(seg, 'Columns', '?')} columns) do not fit the images of {folder} "
                f"({'x'.join(map(str, image.array.shape))} voxels); re-export the SEG"
            )
    segments = [Segment(int(n), _label(seg, n), volume[..., i]) for i, n in enumerate(numbers)]
    return replace(segments_mask(path, image, segments, dicom_ids(seg), "dicom-seg"), grid=grid)


def _on_series(
    path: str,
    seg: Any,
    image: Mask,
    headers: list[tuple[str, Any]],
    sources: set[str],
    numbers: list[int],
    threshold: float,
    folder: str,
) -> np.ndarray:
    """Frames on the series grid: by source image when the SEG says spatial locations are
    preserved (as highdicom writes), else by plane position (dcmqi, 3D Slicer)."""
    sops = [str(ds.SOPInstanceUID) for _, ds in headers]
    if sources and not sources <= set(sops):
        missing = len(sources - set(sops))
        raise MaskReadError(
            f"{path}: {missing} image(s) the SEG refers to are not in {folder}; "
            "pass --reference-image with the complete series"
        )
    if sources:
        try:
            pixels = seg.get_pixels_by_source_instance(
                sops, segment_numbers=numbers, combine_segments=False, skip_overlap_checks=True
            )
        except RuntimeError:  # spatial locations not declared preserved: use plane positions
            pass
        else:
            volume = np.transpose(pixels > threshold, (2, 1, 0, 3))  # (z, rows, cols, s) -> xyzs
            return volume[:, :, 0, :] if image.array.ndim == 2 else volume
    return _by_position(path, seg, image, numbers, threshold)


def _volume(path: str, seg: Any, numbers: list[int]) -> Any:
    """highdicom's volume of the SEG's frames: (slice, row, column, segment) and its affine."""
    try:
        return seg.get_volume(
            segment_numbers=numbers, combine_segments=False, skip_overlap_checks=True
        )
    except (ValueError, RuntimeError, KeyError, AttributeError, TypeError) as e:
        raise UnsupportedFormatError(
            f"{path}: this SEG's frames do not form a regular volume ({first_line(e)}); pass "
            "--reference-image DIR with the image series it was made on"
        ) from e


def _own_grid(path: str, seg: Any, numbers: list[int], threshold: float) -> tuple[Mask, np.ndarray]:
    """The grid the SEG's frames define, axes (column, row, slice) like a DICOM series read by
    ``io.dicom``: slices run along the row x column normal."""
    volume = _volume(path, seg, numbers)
    affine = np.asarray(volume.affine, dtype=float)
    data = np.asarray(volume.array) > threshold  # (slice, row, column, segment)
    axes = affine[:3, [2, 1, 0]]  # column, row, slice steps in LPS mm
    spacing = np.linalg.norm(axes, axis=0)
    direction = axes / spacing
    origin = affine[:3, 3].copy()
    array = np.transpose(data, (2, 1, 0, 3))
    if np.dot(np.cross(direction[:, 0], direction[:, 1]), direction[:, 2]) < 0:
        origin += (array.shape[2] - 1) * axes[:, 2]
        direction[:, 2] = -direction[:, 2]
        array = array[:, :, ::-1, :]
    image = Mask(
        np.zeros(array.shape[:3], np.uint8),
        tuple(float(v) for v in spacing),
        tuple(float(v) for v in origin),
        tuple(float(v) for v in direction.ravel()),
        path,
        "dicom-seg",
    )
    return image, array


def _by_position(
    path: str, seg: Any, image: Mask, numbers: list[int], threshold: float
) -> np.ndarray:
    """Frames placed on the image grid by their plane positions (highdicom's volume), for SEGs
    that do not reference their source images frame by frame, or do not say that spatial
    locations are preserved."""
    volume = _volume(path, seg, numbers)
    n = image.array.ndim
    direction = np.eye(3)
    direction[:n, :n] = np.asarray(image.direction, dtype=float).reshape(n, n)
    spacing = np.ones(3)
    spacing[:n] = image.spacing
    origin = np.zeros(3)
    origin[:n] = image.origin
    to_index = np.linalg.inv(direction * spacing)
    out = np.zeros((*image.array.shape, len(numbers)), dtype=bool)
    affine = np.asarray(volume.affine, dtype=float)
    data = np.asarray(volume.array)
    for s in range(len(numbers)):
        found = np.argwhere(data[..., s] > threshold)  # (slice, row, column) of highdicom
        lps = found @ affine[:3, :3].T + affine[:3, 3]
        index = (lps - origin) @ to_index.T
        rounded = np.rint(index).astype(int)
        inside = np.all((rounded >= 0) & (rounded[:, :n] < image.array.shape), axis=1)
        if np.abs(index - rounded).max(initial=0) > 0.05 or not inside.all():
            raise MaskReadError(
                f"{path}: SEG frames do not lie on the grid of the referenced series; "
                "use --geometry resample after exporting the SEG as NIfTI"
            )
        out[(*rounded[:, :n].T, np.full(len(rounded), s))] = True
    return out


def _open(path: str) -> Any:
    try:
        import highdicom as hd
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise UnsupportedFormatError(
            f"{path}: reading DICOM SEG needs highdicom: pip install highdicom"
        ) from e
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        head = pydicom.dcmread(path, stop_before_pixels=True)
        kind = str(getattr(head, "SegmentationType", ""))
        if kind not in TYPES:
            raise UnsupportedFormatError(
                f"{path}: SEG type {kind or '(none)'} is not supported; dicecli reads "
                + ", ".join(TYPES)
            )
        try:
            return hd.seg.segread(path)
        except DiceCliError:
            raise
        except Exception as e:
            raise MaskReadError(
                f"{path}: not a readable DICOM SEG ({first_line(e)}); re-export it"
            ) from e


def _label(seg: Any, number: int) -> str:
    description = seg.get_segment_description(number)
    return str(getattr(description, "segment_label", "") or number)


__all__ = ["read_seg"]
