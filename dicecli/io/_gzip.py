"""gzip decompression through the fastest codec installed: libdeflate (``deflate``), else zlib."""

from __future__ import annotations

import gzip
import zlib


def peek(raw: bytes, size: int) -> bytes:
    """The first ``size`` decompressed bytes, without decompressing the rest (to read a header)."""
    return zlib.decompressobj(wbits=31).decompress(raw, size)


def gunzip(raw: bytes) -> bytes | bytearray:
    """Decompress a whole gzip file.

    libdeflate decompresses in one call at 1.3-1.8 GB/s but trusts the 32-bit size trailer and reads
    one member; on any complaint (a file over 4 GiB, several members) the standard library decides.
    """
    try:
        import deflate
    except ImportError:  # pragma: no cover - deflate is a declared dependency
        return gzip.decompress(raw)
    try:
        return deflate.gzip_decompress(raw)  # type: ignore[no-any-return,unused-ignore]
    except (deflate.DeflateError, ValueError, OverflowError, MemoryError):
        return gzip.decompress(raw)
