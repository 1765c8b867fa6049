"""gzip decompression through the fastest codec installed.

The chain, fastest first (measured on .nii.gz label maps, 2 vCPU): libdeflate (PyPI ``deflate``,
a dependency) 1.3-1.8 GB/s, zlib-ng (``zlib-ng``) 1.2-1.5, ISA-L (``isal``) 0.8, the standard
library's zlib 0.5. libdeflate decompresses in one call but trusts the 32-bit size trailer and reads
one member: on any complaint (a file over 4 GiB, several members) the next codec decides.
"""

from __future__ import annotations

import functools
import gzip
import zlib
from collections.abc import Callable

Codec = Callable[[bytes], "bytes | bytearray"]


def peek(raw: bytes, size: int) -> bytes:
    """The first ``size`` decompressed bytes, without decompressing the rest (to read a header)."""
    return zlib.decompressobj(wbits=31).decompress(raw, size)


def _libdeflate() -> Codec:
    import deflate

    return deflate.gzip_decompress  # type: ignore[no-any-return]


def _zlib_ng() -> Codec:
    from zlib_ng import gzip_ng

    return gzip_ng.decompress  # type: ignore[no-any-return]


def _isal() -> Codec:
    from isal import igzip

    return igzip.decompress  # type: ignore[no-any-return]


#: (name, loader) fastest first; a loader raises ImportError when its package is missing.
CHAIN: list[tuple[str, Callable[[], Codec]]] = [
    ("libdeflate", _libdeflate),
    ("zlib-ng", _zlib_ng),
    ("isal", _isal),
]


@functools.cache
def codecs() -> list[tuple[str, Codec]]:
    """The installed codecs, fastest first, ending with the standard library's."""
    found = []
    for name, load in CHAIN:
        try:
            found.append((name, load()))
        except ImportError:
            continue
    return [*found, ("zlib", gzip.decompress)]


def gunzip(raw: bytes, expected: int) -> bytes | bytearray:
    """The first ``expected`` bytes a gzip file inflates to (all of it, for a valid file), never
    more: a stream that inflates further than its header promises (a decompression bomb) costs at
    most ``expected`` bytes. Fewer bytes come back when the file is truncated.

    When the size trailer says ``expected`` (mod 2**32), libdeflate decompresses in one call into
    a buffer of that size (it fails rather than write past it) and checks the CRC. Otherwise --
    several members (bgzip), trailing data, a wrong trailer, a codec's complaint -- zlib inflates
    member by member up to ``expected`` bytes (the CRC of every member read to its end checked).
    """
    chain = codecs()
    trailer = int.from_bytes(raw[-4:], "little") if len(raw) >= 4 else -1
    if trailer == expected % (1 << 32):
        for name, decompress in chain[:-1]:
            if name != "libdeflate":  # the others inflate all there is: no bound
                continue
            try:
                out = decompress(raw)
            except Exception:  # noqa: BLE001 - each codec has its own error types
                break
            if len(out) == expected:
                return out
            break
    return bounded(raw, expected)


#: How much a stream may inflate beyond what its header promises before it is taken for a bomb.
SLACK = 1 << 20


def bounded(raw: bytes, limit: int) -> bytearray:
    """zlib, member after member, stopping at ``limit`` bytes of output. A stream that goes on
    beyond ``limit`` by more than ``SLACK`` bytes (or a tenth of ``limit``) is a decompression
    bomb: ``ValueError``, after inflating at most that much more. One that stops short of its
    own end -- the last member cut before its CRC, even with every voxel in -- raises
    ``EOFError``."""
    out = bytearray()
    data = raw
    while data and len(out) < limit:
        member = zlib.decompressobj(wbits=31)
        out += member.decompress(data, limit - len(out))
        if not member.eof:
            if len(out) >= limit:
                _check_end(member, max(SLACK, limit // 10), limit)
            break  # the limit, or a truncated stream (the caller sees fewer bytes)
        data = member.unused_data
        if not data.strip(b"\0"):
            break  # padding after the last member
    return out


def _check_end(member: zlib._Decompress, slack: int, limit: int) -> None:
    """At ``limit`` bytes: the stream must end within ``slack`` more bytes, and end at all."""
    extra = len(member.decompress(member.unconsumed_tail, slack))
    if extra >= slack and not member.eof:
        raise ValueError(
            f"the gzip stream inflates to more than {limit + slack:,} bytes, beyond the "
            f"{limit:,} its header promises (a decompression bomb?)"
        )
    if not member.eof:
        raise EOFError("the gzip stream ends before its end (truncated)")
