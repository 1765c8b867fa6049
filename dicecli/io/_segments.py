"""Build a Mask from boolean segments on a reference image's grid (SEG and RTSTRUCT)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dicecli.models import Mask, Segment


def segments_mask(
    path: str, image: Mask, segments: Sequence[Segment], meta: dict[str, str], fmt: str
) -> Mask:
    """``array`` holds the segment numbers (where segments overlap, the lowest number wins, for
    display only: scoring uses each segment's own boolean array)."""
    dtype = np.uint8 if max((s.number for s in segments), default=0) < 256 else np.uint16
    labels = np.zeros(image.array.shape, dtype=dtype, order="F")
    for segment in sorted(segments, key=lambda s: -s.number):
        labels[segment.array] = segment.number
    return Mask(
        labels,
        image.spacing,
        image.origin,
        image.direction,
        path,
        fmt,
        meta=meta,
        segments=tuple(segments),
    )


def dicom_ids(ds: object) -> dict[str, str]:
    return {
        key: str(getattr(ds, key, ""))
        for key in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID")
    }
