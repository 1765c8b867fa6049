"""NRRD, MetaImage, GIPL and Analyze (.nrrd, .nhdr, .mha, .mhd, .gipl, .hdr) through SimpleITK;
3D Slicer segmentations (``.seg.nrrd``) with their segment names and layers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dicecli.errors import MaskReadError
from dicecli.io._itk_headers import check_header
from dicecli.io._limits import ReadOptions, check_voxels
from dicecli.io._sitk import bad_data, itk_messages, notes, sitk_array, sitk_geometry
from dicecli.models import Mask


def read_itk(path: str, options: ReadOptions) -> Mask:
    import SimpleITK as sitk

    claimed = check_header(path)  # a MetaImage or NRRD header SimpleITK would trust
    if claimed is not None:
        check_voxels(path, claimed, options)
    reader = sitk.ImageFileReader()
    reader.SetFileName(path)
    try:
        with itk_messages() as messages:
            reader.ReadImageInformation()
            keys = reader.GetMetaDataKeys()
            meta = {k: reader.GetMetaData(k) for k in keys if k.startswith("Segment")}
            components = int(reader.GetNumberOfComponents())
            size = (*reader.GetSize(), *((components,) if components > 1 else ()))
            check_voxels(path, size, options)
            image = reader.Execute()
    except RuntimeError as e:
        raise MaskReadError(
            f"{path}: not a readable image ({_itk_reason(e)}); re-export it or check the download"
        ) from e
    bad = bad_data(messages)
    if bad:
        raise MaskReadError(f"{path}: the voxels could not be read ({bad}); re-export it")
    if any(k.endswith(("_LabelValue", "_Name")) for k in meta):
        from dicecli.io.slicer import slicer_mask

        mask = slicer_mask(image, meta, path)
    else:
        mask = mask_from_sitk(image, path, "itk")
    return replace(mask, warnings=(*mask.warnings, *notes(messages, path)))


def mask_from_sitk(image: Any, path: str, fmt: str) -> Mask:
    """Wrap a SimpleITK image as a Mask indexed (x, y, z) like its physical axes."""
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise MaskReadError(
            f"{path}: holds {image.GetNumberOfComponentsPerPixel()}-component (vector or colour) "
            "pixels; save the mask as a single-channel label map"
        )
    return Mask(sitk_array(image), *sitk_geometry(image), path, fmt)


def _itk_reason(e: RuntimeError) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.lower().startswith(("description:", "itk::error")) or "Unable" in ln:
            return ln.removeprefix("Description:").strip()
    return lines[-1] if lines else "unknown error"
