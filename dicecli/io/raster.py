"""PNG, TIFF, BMP, GIF and JPEG masks through Pillow.

Palette and grey-level images keep their values as labels; 8-bit images holding exactly {0, 255}
read as {0, 1}; colour images need a colour -> label map unless all channels are equal.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.io._geometry import identity
from dicecli.io._limits import ReadOptions, check_voxels
from dicecli.models import Mask

LOSSY = (".jpg", ".jpeg")

#: Grey-level PNG modes that SimpleITK decodes 2.4x faster than Pillow, to the same values
#: (measured on a 4096x4096 mask; palette PNGs stay with Pillow: SimpleITK expands them to RGB).
GREY_PNG = ("L", "I;16", "I;16B")


def read_raster(path: str, options: ReadOptions) -> Mask:
    from PIL import Image, UnidentifiedImageError

    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            # dicecli's own --max-voxels guard replaces Pillow's decompression-bomb warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = None
            with Image.open(path) as img:
                frames = getattr(img, "n_frames", 1)
                check_voxels(path, (*img.size, frames) if frames > 1 else img.size, options)
                fast = img.format == "PNG" and img.mode in GREY_PNG and frames == 1
                planes = []
                for i in range(frames if not fast else 0):
                    img.seek(i)
                    planes.append(_plane(img, path, options))
            if fast:
                planes.append(_grey_png(path))
    except MaskReadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise MaskReadError(
            f"{path}: not a readable image ({e}); re-export it or check the download"
        ) from e
    array = planes[0] if frames == 1 else np.stack(planes, axis=-1)
    if path.lower().endswith(LOSSY):
        notes.append(f"{path}: JPEG is lossy, so mask edges carry compression noise; prefer PNG")
    array = _binary_255(array)
    spacing, origin, direction = identity(array.ndim)
    return Mask(array, spacing, origin, direction, path, "raster", warnings=tuple(notes))


def _grey_png(path: str) -> Any:
    import SimpleITK as sitk

    try:
        return sitk.GetArrayFromImage(sitk.ReadImage(path, imageIO="PNGImageIO")).T
    except RuntimeError as e:
        raise MaskReadError(f"{path}: PNG pixel data could not be decoded; re-export it") from e


def _plane(img: Any, path: str, options: ReadOptions) -> Any:
    mode = img.mode
    if mode == "1":
        return np.asarray(img, dtype=np.uint8).T
    if mode in ("LA", "PA"):
        img = img.getchannel(0)
    elif mode in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "HSV", "LAB"):
        return _colour(np.asarray(img.convert("RGB")), path, options).T
    return np.asarray(img).T


def _colour(rgb: Any, path: str, options: ReadOptions) -> Any:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if np.array_equal(r, g) and np.array_equal(r, b):
        return r  # a grey-level mask stored as RGB
    packed = (r.astype(np.uint32) << 16) | (g.astype(np.uint32) << 8) | b
    colours, inverse = np.unique(packed, return_inverse=True)
    triples = [((int(c) >> 16) & 255, (int(c) >> 8) & 255, int(c) & 255) for c in colours]
    table = {(0, 0, 0): 0, **options.color_map}
    unknown = [t for t in triples if t not in table]
    if unknown:
        shown = ", ".join(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        hint = "add them to --color-map" if options.color_map else "pass --color-map"
        raise MaskReadError(
            f"{path}: colour mask with colours {shown}{more} that map to no label; {hint} "
            "(e.g. --color-map '#ff0000=1,#00ff00=2')"
        )
    labels = np.array([table[t] for t in triples])
    dtype = np.uint8 if labels.max(initial=0) < 256 else np.uint16
    return labels.astype(dtype)[inverse.reshape(packed.shape)]


def _binary_255(array: Any) -> Any:
    """An 8-bit mask holding exactly {0, 255} (or only 255) means {0, 1}."""
    if array.dtype != np.uint8 or int(array.max(initial=0)) != 255:
        return array
    if np.count_nonzero((array > 0) & (array < 255)):
        return array
    return (array == 255).view(np.uint8)
