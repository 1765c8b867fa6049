"""DICOM Segmentation objects (BINARY, FRACTIONAL, LABELMAP) through highdicom.

The full grid is the referenced image series (``--reference-image``, or found beside the SEG by
SeriesInstanceUID or Frame of Reference): frames are placed by their source image, or by their
plane positions when the SEG does not reference its sources frame by frame, so frames a writer
left out (empty ones) read as empty. Each segment becomes its own boolean volume (segments may
overlap); fractional segments are ``value > --threshold`` (default 0.5).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError, UnsupportedFormatError
from dicecli.io._limits import ReadOptions
from dicecli.io._reference import find_series
from dicecli.io._segments import dicom_ids, segments_mask
from dicecli.models import Mask, Segment

TYPES = ("BINARY", "FRACTIONAL", "LABELMAP")


def read_seg(path: str, options: ReadOptions) -> Mask:
    seg = _open(path)
    sources = seg.get_source_image_uids()
    series = sorted({s for _, s, _ in sources})
    if len(series) > 1:
        raise MaskReadError(
            f"{path}: the SEG refers to {len(series)} image series; dicecli scores a SEG made "
            "on one series"
        )
    from dicecli.io.dicom import read_series

    frame = str(getattr(seg, "FrameOfReferenceUID", "")) or None
    folder = find_series(path, series[0] if series else None, frame, options.reference_image, "SEG")
    image, headers = read_series(folder, options, images_only=True)
    numbers = list(seg.get_segment_numbers())
    threshold = options.threshold if str(seg.SegmentationType) == "FRACTIONAL" else 0
    sops = [str(ds.SOPInstanceUID) for _, ds in headers]
    if sources and {sop for _, _, sop in sources} <= set(sops):
        pixels = seg.get_pixels_by_source_instance(
            sops, segment_numbers=numbers, combine_segments=False, skip_overlap_checks=True
        )
        volume = np.transpose(pixels > threshold, (2, 1, 0, 3))  # (z, rows, cols, s) -> xyzs
        if image.array.ndim == 2:
            volume = volume[:, :, 0, :]
    elif sources:
        missing = len({sop for _, _, sop in sources} - set(sops))
        raise MaskReadError(
            f"{path}: {missing} image(s) the SEG refers to are not in {folder}; "
            "pass --reference-image with the complete series"
        )
    else:  # no source references: place the frames by their positions
        volume = _by_position(path, seg, image, numbers, threshold)
    segments = [Segment(int(n), _label(seg, n), volume[..., i]) for i, n in enumerate(numbers)]
    return segments_mask(path, image, segments, dicom_ids(seg), "dicom-seg")


def _by_position(
    path: str, seg: Any, image: Mask, numbers: list[int], threshold: float
) -> np.ndarray:
    """Frames placed on the image grid by their plane positions (highdicom's volume), for SEGs
    that do not reference their source images frame by frame."""
    try:
        volume = seg.get_volume(segment_numbers=numbers, combine_segments=False)
    except (ValueError, RuntimeError, KeyError, AttributeError) as e:
        raise UnsupportedFormatError(f"{path}: this SEG's frames cannot be placed ({e})") from e
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
        except (ValueError, AttributeError, KeyError, TypeError) as e:
            raise MaskReadError(f"{path}: not a readable DICOM SEG ({e})") from e


def _label(seg: Any, number: int) -> str:
    description = seg.get_segment_description(number)
    return str(getattr(description, "segment_label", "") or number)
