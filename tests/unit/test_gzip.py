"""The decompression chain: every codec gives the standard library's bytes; fallbacks work."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import numpy as np
import pytest

from dicecli.io import _gzip

DATA = np.random.default_rng(0).integers(0, 4, 300_000).astype(np.uint8).tobytes()


@pytest.mark.parametrize("name", [n for n, _ in _gzip.codecs()])
def test_each_installed_codec_matches_the_standard_library(name):
    codec = dict(_gzip.codecs())[name]
    assert bytes(codec(gzip.compress(DATA, 1))) == DATA


def test_multi_member_files_fall_back_to_a_codec_that_reads_them():
    raw = gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:])
    assert bytes(_gzip.gunzip(raw, len(DATA))) == DATA


def test_without_optional_codecs_the_standard_library_decides(monkeypatch):
    def missing():
        raise ImportError("not installed")

    monkeypatch.setattr(_gzip, "CHAIN", [("libdeflate", missing)])
    _gzip.codecs.cache_clear()
    try:
        assert [n for n, _ in _gzip.codecs()] == ["zlib"]
        assert _gzip.gunzip(gzip.compress(DATA), len(DATA)) == DATA
    finally:
        _gzip.codecs.cache_clear()


def test_truncated_data_comes_back_short_and_a_bad_crc_raises():
    assert len(_gzip.gunzip(gzip.compress(DATA)[:-50], len(DATA))) < len(DATA)
    bad = bytearray(gzip.compress(DATA))
    bad[-8:-4] = b"\0\0\0\0"  # the CRC
    with pytest.raises(zlib.error):
        _gzip.gunzip(bytes(bad), len(DATA))


def test_a_decompression_bomb_is_refused_after_a_megabyte_more():
    """A stream of 256 MiB of zeros whose reader asked for 1 KiB: refused once it inflated
    1 MiB beyond (found: a 4.7 MB .nii.gz claiming 1,152 voxels inflated to 4.5 GB before a
    MemoryError); a few bytes more than promised are accepted."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    bomb = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="a decompression bomb"):
            _gzip.gunzip(bomb, 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(bomb) + (4 << 20)  # the input, zlib's window, the slack: not 256 MiB
    assert bytes(_gzip.gunzip(gzip.compress(bytes(2000)), 1024)) == bytes(1024)


def test_a_trailer_that_lies_about_the_size_is_read_up_to_what_was_asked():
    raw = bytearray(gzip.compress(DATA))
    raw[-4:] = (len(DATA) + 7).to_bytes(4, "little")
    with pytest.raises(zlib.error):  # the CRC and the size no longer agree: zlib notices
        _gzip.gunzip(bytes(raw), len(DATA) + 7)
    assert bytes(_gzip.gunzip(gzip.compress(DATA) + b"\0" * 100, len(DATA))) == DATA


def test_bgzip_style_nifti_reads_completely(tmp_path, rng):
    from conftest import write_nifti

    from dicecli.io import load_mask

    vol = rng.integers(0, 4, (30, 20, 10)).astype(np.uint8)
    path = write_nifti(str(tmp_path / "a.nii.gz"), vol)
    with open(path, "rb") as f:
        raw = gzip.decompress(f.read())
    with open(path, "wb") as f:  # several members, like bgzip, ending with an empty one
        f.write(gzip.compress(raw[:2000]) + gzip.compress(raw[2000:]) + gzip.compress(b""))
    np.testing.assert_array_equal(load_mask(path).array, vol)
