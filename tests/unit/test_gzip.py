"""The decompression chain: every codec gives the standard library's bytes; fallbacks work."""

from __future__ import annotations

import gzip

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
    assert bytes(_gzip.gunzip(raw)) == DATA


def test_without_optional_codecs_the_standard_library_decides(monkeypatch):
    def missing():
        raise ImportError("not installed")

    monkeypatch.setattr(_gzip, "CHAIN", [("libdeflate", missing)])
    _gzip.codecs.cache_clear()
    try:
        assert [n for n, _ in _gzip.codecs()] == ["zlib"]
        assert _gzip.gunzip(gzip.compress(DATA)) == DATA
    finally:
        _gzip.codecs.cache_clear()


def test_corrupt_data_raises_the_standard_library_error():
    with pytest.raises((OSError, EOFError)):
        _gzip.gunzip(gzip.compress(DATA)[:-50])


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
