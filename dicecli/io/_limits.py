"""Options every reader shares, and the guard against headers that claim absurd sizes."""

from __future__ import annotations

import math

from dicecli.errors import MaskReadError
from dicecli.models import ReadOptions

__all__ = ["ReadOptions", "check_voxels"]


def check_voxels(path: str, shape: tuple[int, ...], options: ReadOptions) -> None:
    """Refuse, before allocating, a file whose header claims more voxels than ``max_voxels``."""
    n = math.prod(shape)
    if n > options.max_voxels:
        raise MaskReadError(
            f"{path}: header claims {'x'.join(map(str, shape))} = {n:,} voxels, over the "
            f"--max-voxels limit of {options.max_voxels:,}; "
            "raise --max-voxels if the file is genuine"
        )
