"""MetaImage (.mha/.mhd) and NRRD (.nrrd/.nhdr) headers checked before SimpleITK sees them.

SimpleITK trusts its headers: ``NDims = -1`` or ``2^31`` crashes the process (a segfault: the
whole run dies), a detached data file may be ``/dev/zero`` or shorter than the voxels it must
hold (read from uninitialised memory). This reads the text header (the fields a reader needs,
nothing else) and refuses anything no valid file holds, naming the field; what passes is handed
to SimpleITK. It reads no voxels.
"""

from __future__ import annotations

import math
import os
import re

from dicecli.errors import MaskReadError, UnsupportedFormatError

#: The largest header read (a NRRD header of a Slicer file with 100 segments is ~40 KB).
_HEADER_BYTES = 1 << 20

_META_TYPES = {
    "MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4, "MET_UINT": 4,
    "MET_LONG": 4, "MET_ULONG": 4, "MET_LONG_LONG": 8, "MET_ULONG_LONG": 8, "MET_FLOAT": 4,
    "MET_DOUBLE": 8,
}  # fmt: skip
_NRRD_TYPES = {
    **dict.fromkeys(("signed char", "int8", "int8_t", "uchar", "unsigned char", "uint8",
                     "uint8_t"), 1),
    **dict.fromkeys(("short", "short int", "signed short", "signed short int", "int16",
                     "int16_t", "ushort", "unsigned short", "unsigned short int", "uint16",
                     "uint16_t"), 2),
    **dict.fromkeys(("int", "signed int", "int32", "int32_t", "uint", "unsigned int", "uint32",
                     "uint32_t", "float"), 4),
    **dict.fromkeys(("longlong", "long long", "long long int", "signed long long",
                     "signed long long int", "int64", "int64_t", "ulonglong", "unsigned long long",
                     "unsigned long long int", "uint64", "uint64_t", "double"), 8),
}  # fmt: skip
_NRRD_ENCODINGS = {"raw", "gzip", "gz", "bzip2", "bz2", "ascii", "text", "txt", "hex"}
#: At most this many axes (a 3D mask, a layer or time axis, a component axis).
_MAX_DIMS = 5


def check_header(path: str) -> tuple[int, ...] | None:
    """The image size a MetaImage or NRRD header claims, once every field a reader relies on
    is valid; None for other files. Raises ``MaskReadError`` naming the field otherwise."""
    lower = path.lower()
    if lower.endswith((".mha", ".mhd")):
        return _meta(path)
    if lower.endswith((".nrrd", ".nhdr")):
        return _nrrd(path)
    return None


def _head(path: str) -> tuple[bytes, int]:
    with open(path, "rb") as f:
        data = f.read(_HEADER_BYTES)
        size = os.fstat(f.fileno()).st_size
    return data, size


def _meta(path: str) -> tuple[int, ...]:
    data, size = _head(path)
    fields: dict[str, str] = {}
    end = 0
    for match in re.finditer(rb"([^\r\n]*)(\r?\n|$)", data):
        line = match.group(1).decode("latin-1")
        end = match.end()
        if not line.strip():
            if match.group(2) == b"":
                break
            continue
        key, eq, value = line.partition("=")
        if not eq:
            raise MaskReadError(f"{path}: MetaImage header line {line[:40]!r} has no '='")
        fields[key.strip()] = value.strip()
        if key.strip() == "ElementDataFile":
            break
    else:
        end = len(data)
    if "ElementDataFile" not in fields:
        raise MaskReadError(f"{path}: MetaImage header without ElementDataFile (truncated?)")
    ndims = _int(path, fields, "NDims", 1, _MAX_DIMS)
    shape = _ints(path, fields, "DimSize", ndims)
    channels = _int(path, fields, "ElementNumberOfChannels", 1, 64, default=1)
    kind = fields.get("ElementType", "")
    if kind not in _META_TYPES:
        raise MaskReadError(f"{path}: MetaImage ElementType {kind!r} is not a type of voxel")
    for key, count in (("ElementSpacing", ndims), ("ElementSize", ndims), ("Offset", ndims),
                       ("Origin", ndims), ("Position", ndims), ("CenterOfRotation", ndims),
                       ("TransformMatrix", ndims * ndims), ("Rotation", ndims * ndims),
                       ("Orientation", ndims * ndims)):  # fmt: skip
        if key in fields:
            _floats(path, fields, key, count)
    compressed = fields.get("CompressedData", "False").lower()
    if compressed not in ("true", "false"):
        raise MaskReadError(f"{path}: MetaImage CompressedData {compressed!r} is not True/False")
    needed = math.prod(shape) * channels * _META_TYPES[kind]
    target = fields["ElementDataFile"]
    if target == "LOCAL":
        available = size - end
    else:
        available = _data_file(path, target)
        header_size = _int(path, fields, "HeaderSize", -1, 1 << 62, default=0)
        available -= max(header_size, 0)
    if compressed == "true":
        if "CompressedDataSize" in fields:
            claimed = _int(path, fields, "CompressedDataSize", 1, 1 << 62)
            if claimed > available:
                raise MaskReadError(
                    f"{path}: MetaImage CompressedDataSize {claimed} but {max(available, 0)} "
                    "bytes of data follow; truncated?"
                )
        elif available <= 0:
            raise MaskReadError(f"{path}: MetaImage holds no compressed data; truncated?")
    elif available < needed:
        raise MaskReadError(
            f"{path}: the header promises {needed} bytes of voxels but the data holds "
            f"{max(available, 0)}; truncated?"
        )
    return (*shape, *((channels,) if channels > 1 else ()))


def _nrrd(path: str) -> tuple[int, ...]:
    data, size = _head(path)
    if not re.match(rb"NRRD000[1-5]\r?\n", data):
        raise MaskReadError(f"{path}: not a NRRD file (no NRRD000N magic line)")
    fields: dict[str, str] = {}
    end = len(data)
    for match in re.finditer(rb"([^\r\n]*)(\r?\n|$)", data):
        line = match.group(1).decode("latin-1")
        if match.start() == 0 or line.startswith("#"):
            continue
        if not line.strip():
            end = match.end()
            break
        if ":=" in line:  # key/value pairs (Slicer's segment names): not fields
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise MaskReadError(f"{path}: NRRD header line {line[:40]!r} has no ':'")
        fields[key.strip().lower()] = value.strip()
    else:
        if path.lower().endswith(".nrrd"):
            raise MaskReadError(f"{path}: NRRD header without the blank line before the data")
    ndims = _int(path, fields, "dimension", 1, _MAX_DIMS)
    shape = _ints(path, fields, "sizes", ndims)
    kind = fields.get("type", "").lower()
    if kind not in _NRRD_TYPES:
        raise MaskReadError(f"{path}: NRRD type {kind!r} is not a type of voxel")
    encoding = fields.get("encoding", "").lower()
    if encoding not in _NRRD_ENCODINGS:
        raise MaskReadError(f"{path}: NRRD encoding {encoding!r} is not one dicecli reads")
    if "spacings" in fields:
        _floats(path, fields, "spacings", ndims, allow_nan=True)
    if "space origin" in fields:
        _vectors(path, fields["space origin"], "space origin", 1)
    if "space directions" in fields:
        _vectors(path, fields["space directions"], "space directions", ndims)
    for key in ("line skip", "lineskip", "byte skip", "byteskip"):
        if key in fields:
            _int(path, fields, key, -1, 1 << 62)
    target = fields.get("data file") or fields.get("datafile")
    available = size - end if target is None else _data_file(path, target)
    needed = math.prod(shape) * _NRRD_TYPES[kind]
    if encoding == "raw" and available < needed:
        raise MaskReadError(
            f"{path}: the header promises {needed} bytes of voxels but the data holds "
            f"{max(available, 0)}; truncated?"
        )
    if available <= 0:
        raise MaskReadError(f"{path}: the NRRD holds no voxel data; truncated?")
    return shape


def _data_file(path: str, target: str) -> int:
    """The size of a detached data file (beside the header), refusing lists, patterns,
    devices and folders."""
    if target.upper().startswith("LIST") or "%" in target or " " in target.strip():
        raise UnsupportedFormatError(
            f"{path}: the voxels are split over several files ({target[:40]}); dicecli reads "
            "one data file per header -- re-save the image as one file"
        )
    data = os.path.join(os.path.dirname(path), target)
    if not os.path.isfile(data):
        raise MaskReadError(
            f"{path}: its data file {target} is missing (or not a file) beside it; copy it too"
        )
    return os.path.getsize(data)


def _int(
    path: str, fields: dict[str, str], key: str, low: int, high: int, default: int | None = None
) -> int:
    text = fields.get(key)
    if text is None:
        if default is not None:
            return default
        raise MaskReadError(f"{path}: the header has no {key}")
    if not re.fullmatch(r"[+-]?\d+", text) or not low <= int(text) <= high:
        raise MaskReadError(f"{path}: header field {key} = {text!r} is not a whole number in "
                            f"{low}..{high}")  # fmt: skip
    return int(text)


def _ints(path: str, fields: dict[str, str], key: str, count: int) -> tuple[int, ...]:
    values = fields.get(key, "").split()
    if len(values) != count or not all(re.fullmatch(r"\+?\d+", v) for v in values):
        raise MaskReadError(
            f"{path}: header field {key} = {fields.get(key, '')!r} should be {count} sizes"
        )
    sizes = tuple(int(v) for v in values)
    if any(n < 1 for n in sizes):
        raise MaskReadError(f"{path}: holds no voxels ({key} {' '.join(values)})")
    return sizes


def _floats(
    path: str, fields: dict[str, str], key: str, count: int, allow_nan: bool = False
) -> None:
    values = fields[key].split()
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        numbers = []
    ok = len(numbers) == count and all(
        math.isfinite(v) or (allow_nan and math.isnan(v)) for v in numbers
    )
    if not ok:
        raise MaskReadError(f"{path}: header field {key} = {fields[key]!r} should be {count} "
                            "finite numbers")  # fmt: skip


def _vectors(path: str, text: str, key: str, count: int) -> None:
    """NRRD vectors ``(x,y,z) (x,y,z)`` (``none`` for a non-spatial axis), finite."""
    parts = re.findall(r"\(([^)]*)\)|(none)", text)
    if len(parts) != count:
        raise MaskReadError(f"{path}: NRRD {key} {text[:60]!r} should be {count} vector(s)")
    for inside, none in parts:
        if none:
            continue
        try:
            numbers = [float(v) for v in inside.split(",")]
        except ValueError:
            numbers = []
        if not numbers or not all(math.isfinite(v) for v in numbers):
            raise MaskReadError(f"{path}: NRRD {key} ({inside}) is not a vector of numbers")
