"""Options every reader shares, and the guard against headers that claim absurd sizes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from dicecli.errors import MaskReadError


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """``color_map`` maps RGB triples to labels; ``max_voxels`` refuses decompression bombs."""

    color_map: Mapping[tuple[int, int, int], int] = field(default_factory=dict)
    max_voxels: int = 4_000_000_000
    #: the image series a DICOM SEG or RTSTRUCT refers to (else searched beside it)
    reference_image: str | None = None
    #: fractional SEG segments become value > threshold
    threshold: float = 0.5


def check_voxels(path: str, shape: tuple[int, ...], options: ReadOptions) -> None:
    """Refuse, before allocating, a file whose header claims more voxels than ``max_voxels``."""
    n = math.prod(shape)
    if n > options.max_voxels:
        raise MaskReadError(
            f"{path}: header claims {'x'.join(map(str, shape))} = {n:,} voxels, over the "
            f"--max-voxels limit of {options.max_voxels:,}; "
            "raise --max-voxels if the file is genuine"
        )
