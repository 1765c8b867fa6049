"""DICOM images: a single file, or a folder holding one series (slices sorted by position).

Headers are scanned with pydicom (no pixel data), slices ordered by ImagePositionPatient projected
on the slice normal -- never by file name -- and decoded into one preallocated volume. Compressed
pixel data that pydicom cannot decode here is read through SimpleITK (GDCM) instead.
"""

from __future__ import annotations

import os
import struct
import warnings
from typing import Any

import numpy as np

from dicecli.errors import (
    MALFORMED_HEADER,
    DiceCliError,
    MaskReadError,
    UnsupportedFormatError,
    first_line,
)
from dicecli.io._limits import ReadOptions, check_voxels
from dicecli.models import Mask

NOT_IMAGES = {
    "SEG": "a DICOM SEG (give the SEG file itself, not a folder)",
    "RTSTRUCT": "an RT Structure Set (give the RTSTRUCT file itself, not a folder)",
    "RTPLAN": "an RT Plan",
    "RTDOSE": "an RT Dose",
    "SR": "a Structured Report",
    "PR": "a Presentation State",
    "KO": "a Key Object Selection",
}


def is_dicom_file(path: str) -> bool:
    """True when the file carries the DICM magic after its 128-byte preamble."""
    try:
        with open(path, "rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def read_series(
    path: str, options: ReadOptions, images_only: bool = False
) -> tuple[Mask, list[tuple[str, Any]]]:
    """The image series of a folder (or one file), and its headers sorted by position;
    ``images_only`` passes over SEG and RTSTRUCT files kept beside the slices. A header whose
    values cannot be what DICOM says (a position of two numbers, text where a number goes)
    is a one-line error naming the series."""
    try:
        return _read_series(path, options, images_only)
    except DiceCliError:
        raise
    except _MALFORMED_SERIES as e:
        raise MaskReadError(
            f"{path}: a malformed DICOM header ({type(e).__name__}: {first_line(e)}); "
            "re-export the series"
        ) from e


#: a header of the series that cannot be what DICOM says, a singular orientation, a cut file
_MALFORMED_SERIES: tuple[type[Exception], ...] = (
    *MALFORMED_HEADER,
    np.linalg.LinAlgError,
    struct.error,
)


def _read_series(
    path: str, options: ReadOptions, images_only: bool
) -> tuple[Mask, list[tuple[str, Any]]]:
    files = _series_files(path) if os.path.isdir(path) else [path]
    read = (_header(f, skip_non_images=images_only) for f in files)
    headers = [h for h in read if h is not None]
    headers = _one_series(path, headers)
    headers.sort(key=_position_key(headers))
    first = headers[0][1]
    samples = int(getattr(first, "SamplesPerPixel", 1) or 1)
    if samples != 1:
        raise UnsupportedFormatError(
            f"{headers[0][0]}: a colour image ({samples} samples per pixel, "
            f"{getattr(first, 'PhotometricInterpretation', '?')}), not a label mask; export the "
            "mask as a single-channel image (or as PNG, read with --color-map)"
        )
    rows, cols = int(first.Rows), int(first.Columns)
    frames = int(getattr(first, "NumberOfFrames", 1) or 1)
    depth = len(headers) * frames
    check_voxels(path, (cols, rows, depth), options)
    volume = _pixels(path, headers, rows, cols, frames)
    spacing, origin, direction = _geometry(headers, first, volume.shape[0])
    array = volume.T if len(headers) > 1 or frames > 1 else volume[0].T
    ndim = array.ndim
    meta = {
        key: str(getattr(first, key, ""))
        for key in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID")
    }
    mask = Mask(
        array,
        spacing[:ndim],
        origin[:ndim],
        tuple(float(v) for v in np.asarray(direction).reshape(3, 3)[:ndim, :ndim].ravel()),
        path,
        "dicom",
        meta=meta,
    )
    return mask, headers


def modality(path: str) -> str:
    """The Modality of a DICOM file ("" when unreadable)."""
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Modality"])
    except Exception:  # noqa: BLE001 - the series reader reports unreadable files
        return ""
    return str(getattr(ds, "Modality", ""))


def header(path: str) -> Any:
    """The header of a DICOM file (no pixel data), or None when it is not one."""
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # noqa: BLE001 - any unreadable file is simply not a candidate
        return None


def _series_files(folder: str) -> list[str]:
    names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    files = [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]
    dicom = [f for f in files if is_dicom_file(f) or f.lower().endswith((".dcm", ".dicom"))]
    if not dicom:
        raise MaskReadError(f"{folder}: folder holds no DICOM files; point at a DICOM series")
    return dicom


def _header(path: str, skip_non_images: bool = False) -> tuple[str, Any] | None:
    import pydicom
    from pydicom.errors import InvalidDicomError

    if os.path.getsize(path) == 0:
        raise MaskReadError(f"{path}: empty file (0 bytes); re-export the series")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns, then raises; the error says it all
            ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (
        InvalidDicomError,
        OSError,
        EOFError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        NotImplementedError,
        struct.error,  # pydicom on a file cut short inside an element's header
    ) as e:
        raise MaskReadError(f"{path}: not a readable DICOM file ({e}); re-export it") from e
    modality = str(getattr(ds, "Modality", ""))
    if modality in NOT_IMAGES and skip_non_images:
        return None
    if modality in NOT_IMAGES:
        raise UnsupportedFormatError(
            f"{path}: is {NOT_IMAGES[modality]}, not an image slice; a series folder must hold "
            "only the images of one series"
        )
    if "Rows" not in ds or "Columns" not in ds:
        raise MaskReadError(f"{path}: DICOM file without image pixel data (no Rows/Columns)")
    return path, ds


def _one_series(path: str, headers: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    series: dict[str, list[tuple[str, Any]]] = {}
    for item in headers:
        series.setdefault(str(getattr(item[1], "SeriesInstanceUID", "")), []).append(item)
    if len(series) > 1:
        listed = "; ".join(
            f"{uid or '(no UID)'} {getattr(items[0][1], 'SeriesDescription', '')!s} "
            f"({len(items)} files)".replace("  ", " ")
            for uid, items in series.items()
        )
        raise MaskReadError(
            f"{path}: folder holds {len(series)} DICOM series ({listed}); "
            "put each series in its own folder"
        )
    return headers


def _normal(ds: Any) -> Any:
    iop = getattr(ds, "ImageOrientationPatient", None)
    if iop is None or len(iop) != 6:
        return None
    row, col = np.asarray(iop[:3], float), np.asarray(iop[3:], float)
    return np.cross(row, col)


def _position_key(headers: list[tuple[str, Any]]) -> Any:
    normal = _normal(headers[0][1])

    def key(item: tuple[str, Any]) -> float:
        ds = item[1]
        ipp = getattr(ds, "ImagePositionPatient", None)
        if normal is None or ipp is None or len(ipp) != 3:
            return float(getattr(ds, "InstanceNumber", 0) or 0)
        return float(np.dot(np.asarray(ipp, float), normal))

    return key


def _pixels(path: str, headers: list[tuple[str, Any]], rows: int, cols: int, frames: int) -> Any:
    import pydicom

    volume: Any = None
    try:
        for i, (file, _) in enumerate(headers):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. excess padding that pydicom removes
                ds = pydicom.dcmread(file)
                if int(ds.Rows) != rows or int(ds.Columns) != cols:
                    raise MaskReadError(
                        f"{file}: slice is {ds.Columns}x{ds.Rows} but the series is {cols}x{rows}"
                    )
                pixels = _rescale(ds, _checked_pixels(file, ds, frames))
            if volume is None:
                volume = np.empty((len(headers) * frames, rows, cols), dtype=pixels.dtype)
            volume[i * frames : (i + 1) * frames] = pixels.reshape(frames, rows, cols)
    except MaskReadError:
        raise
    except (RuntimeError, NotImplementedError, ValueError, AttributeError) as e:
        return _pixels_itk(path, [f for f, _ in headers], e)
    return volume


def _checked_pixels(file: str, ds: Any, frames: int) -> Any:
    """The slice's pixels, once its uncompressed pixel data holds what its header promises
    (GDCM, the fallback for data pydicom refuses, would read the missing bytes from uninitialised
    memory). Compressed data pydicom cannot decode raises for the SimpleITK fallback."""
    if "PixelData" not in ds:
        raise MaskReadError(f"{file}: DICOM slice without pixel data")
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is not None and syntax.is_compressed:
        return ds.pixel_array
    bits = int(getattr(ds, "BitsAllocated", 0) or 0)
    samples = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    if bits not in (1, 8, 16, 32, 64):
        raise MaskReadError(f"{file}: BitsAllocated {bits} is not a pixel size DICOM defines")
    pixels = int(ds.Rows) * int(ds.Columns) * frames * samples
    expected = (pixels + 7) // 8 if bits == 1 else pixels * bits // 8
    held = len(ds.PixelData)
    if held < expected:
        raise MaskReadError(
            f"{file}: the pixel data holds {held} bytes but the header promises {expected} "
            f"({ds.Columns}x{ds.Rows} x {frames} frame(s), {bits} bits); re-export the series"
        )
    try:
        return ds.pixel_array
    except (ValueError, AttributeError, TypeError) as e:
        raise MaskReadError(f"{file}: the pixel data does not match its header ({e})") from e


def _rescale(ds: Any, pixels: Any) -> Any:
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    inter = float(getattr(ds, "RescaleIntercept", 0) or 0)
    if slope == 1 and inter == 0:
        return pixels
    out = pixels * slope + inter
    return out.astype(np.int32) if np.all(out == np.round(out)) else out


def _pixels_itk(path: str, files: list[str], cause: Exception) -> Any:
    import SimpleITK as sitk

    from dicecli.io._sitk import bad_data, itk_messages

    try:
        with itk_messages() as messages:
            image = sitk.ReadImage(files if len(files) > 1 else files[0])
    except RuntimeError as e:
        raise MaskReadError(
            f"{path}: DICOM pixel data could not be decoded ({cause}); install a decoder "
            "(pip install pylibjpeg pylibjpeg-libjpeg) or export uncompressed"
        ) from e
    if bad_data(messages):
        raise MaskReadError(f"{path}: DICOM pixel data could not be decoded ({bad_data(messages)})")
    array = sitk.GetArrayFromImage(image)
    return array if array.ndim == 3 else array[np.newaxis]


def _geometry(
    headers: list[tuple[str, Any]], first: Any, depth: int
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    ps = getattr(first, "PixelSpacing", None) or getattr(first, "ImagerPixelSpacing", None)
    row_spacing, col_spacing = (float(ps[0]), float(ps[1])) if ps else (1.0, 1.0)
    normal = _normal(first)
    iop: Any = getattr(first, "ImageOrientationPatient", None)
    if normal is None:
        direction = np.eye(3)
    else:
        direction = np.column_stack(
            [np.asarray(iop[:3], float), np.asarray(iop[3:], float), normal]
        )
    ipp = getattr(first, "ImagePositionPatient", None)
    origin = tuple(float(v) for v in ipp) if ipp is not None else (0.0, 0.0, 0.0)
    z = _slice_spacing(headers, normal, first)
    return (col_spacing, row_spacing, z), origin, tuple(float(v) for v in direction.ravel())


def _slice_spacing(headers: list[tuple[str, Any]], normal: Any, first: Any) -> float:
    if len(headers) > 1 and normal is not None:
        positions = [
            float(np.dot(np.asarray(ds.ImagePositionPatient, float), normal))
            for _, ds in headers
            if getattr(ds, "ImagePositionPatient", None) is not None
        ]
        if len(positions) == len(headers):
            gaps = np.diff(positions)
            if gaps.size and float(np.median(gaps)) > 0:
                return float(np.median(gaps))
    for key in ("SpacingBetweenSlices", "SliceThickness"):
        value = getattr(first, key, None)
        if value:
            return float(value)
    return 1.0
