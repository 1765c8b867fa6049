"""NRRD and MetaImage (.nrrd, .nhdr, .mha, .mhd) through SimpleITK."""

from __future__ import annotations

from dicecli.errors import MaskReadError
from dicecli.io._limits import ReadOptions, check_voxels
from dicecli.models import Mask


def read_itk(path: str, options: ReadOptions) -> Mask:
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(path)
    try:
        reader.ReadImageInformation()
        check_voxels(path, tuple(reader.GetSize()), options)
        image = reader.Execute()
    except RuntimeError as e:
        raise MaskReadError(
            f"{path}: not a readable image ({_itk_reason(e)}); re-export it or check the download"
        ) from e
    return mask_from_sitk(image, path, "itk")


def mask_from_sitk(image: object, path: str, fmt: str) -> Mask:
    """Wrap a SimpleITK image as a Mask indexed (x, y, z) like its physical axes."""
    import SimpleITK as sitk

    if image.GetNumberOfComponentsPerPixel() != 1:  # type: ignore[attr-defined]
        raise MaskReadError(
            f"{path}: holds {image.GetNumberOfComponentsPerPixel()}-component (vector or colour) "  # type: ignore[attr-defined]
            "pixels; save the mask as a single-channel label map"
        )
    array = sitk.GetArrayFromImage(image).T  # ITK arrays are (z, y, x); .T is a view
    return Mask(
        array,
        tuple(float(v) for v in image.GetSpacing()),  # type: ignore[attr-defined]
        tuple(float(v) for v in image.GetOrigin()),  # type: ignore[attr-defined]
        tuple(float(v) for v in image.GetDirection()),  # type: ignore[attr-defined]
        path,
        fmt,
    )


def _itk_reason(e: RuntimeError) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.lower().startswith(("description:", "itk::error")) or "Unable" in ln:
            return ln.removeprefix("Description:").strip()
    return lines[-1] if lines else "unknown error"
