"""What the reliability campaign found, each pinned by the smallest input that showed it: a
MetaImage header that crashed SimpleITK, corrupt data scored from garbage, header bytes read as
voxels, a gzip bomb, a symbolic link loop, a worker that dies, a carriage return in a file name,
10,000 ignored files, a signal delivered twice, masks of no voxel."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import warnings
import zlib

import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from conftest import ROOT, write_dicom_series, write_nifti
from make_examples import write_rtstruct, write_seg

import dicecli
from dicecli.cli import cli
from dicecli.errors import MaskReadError


def mha(tmp_path, **fields) -> str:
    """A valid MetaImage with some header fields replaced."""
    image = sitk.GetImageFromArray(np.ones((3, 4, 5), np.uint8))
    path = str(tmp_path / "a.mha")
    sitk.WriteImage(image, path, fields.pop("compress", False))
    with open(path, "rb") as f:
        raw = f.read()
    cut = raw.index(b"ElementDataFile = LOCAL\n") + 24
    head, body = raw[:cut].decode("latin-1"), raw[cut:]
    for key, value in fields.items():
        head = "".join(
            f"{key} = {value}\n" if line.split("=")[0].strip() == key else line
            for line in head.splitlines(keepends=True)
        )
    with open(path, "wb") as f:
        f.write(head.encode("latin-1") + body)
    return path


@pytest.mark.parametrize("ndims", ["-1", "2147483648", "1e11", "1e308", "0", "abc"])
def test_a_metaimage_ndims_that_crashed_simpleitk_is_one_line(tmp_path, ndims):
    """SimpleITK segfaults on these (the whole run died, exit 139): refused before it reads."""
    path = mha(tmp_path, NDims=ndims)
    result = subprocess.run(
        [sys.executable, "-m", "dicecli", "info", path], capture_output=True, text=True
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [
        f"error: {path}: header field NDims = {ndims!r} is not a whole number in 1..5"
    ]


def test_a_metaimage_whose_data_is_short_or_elsewhere_is_refused(tmp_path):
    with pytest.raises(MaskReadError, match="the header promises 60 bytes of voxels"):
        dicecli.load_mask(mha_short(tmp_path))
    detached = tmp_path / "d.mhd"
    detached.write_text(
        "NDims = 3\nDimSize = 3 4 5\nElementType = MET_UCHAR\nElementDataFile = /dev/zero\n"
    )
    with pytest.raises(MaskReadError, match="its data file /dev/zero is missing"):
        dicecli.load_mask(str(detached))


def mha_short(tmp_path) -> str:
    path = mha(tmp_path)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:-7])
    return path


def test_corrupt_compressed_metaimage_is_an_error_not_garbage(tmp_path):
    path = mha(tmp_path, compress=True)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[-6] ^= 0xFF  # inside the zlib stream
    with open(path, "wb") as f:
        f.write(bytes(data))
    with pytest.raises(MaskReadError, match=r"the voxels could not be read \(Uncompress failed\)"):
        dicecli.load_mask(path)


def test_a_dicom_slice_claiming_32_bit_pixels_is_refused(tmp_path):
    folder = write_dicom_series(str(tmp_path / "ct"), np.ones((8, 6, 3), np.int16))
    name = sorted(os.listdir(folder))[1]
    ds = pydicom.dcmread(os.path.join(folder, name))
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, 32, 31  # the data is still 16 bits
    ds.save_as(os.path.join(folder, name))
    with pytest.raises(MaskReadError, match="pixel data holds 96 bytes but the header promises"):
        dicecli.load_mask(folder)


def test_a_dicom_series_without_a_usable_orientation_is_refused(runner, tmp_path):
    # fuzz seed 20261201 id 02121: NaN ImageOrientationPatient reached nibabel's SVD
    folder = write_dicom_series(str(tmp_path / "ct"), np.ones((8, 6, 3), np.int16))
    for name in os.listdir(folder):
        ds = pydicom.dcmread(os.path.join(folder, name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom: 'nan' is no valid DS, which is the point
            ds.ImageOrientationPatient = ["nan"] * 6
        ds.save_as(os.path.join(folder, name))
    with pytest.raises(MaskReadError, match="geometry is unusable"):
        dicecli.load_mask(folder)
    result = runner.invoke(cli, ["info", folder])
    assert result.exit_code == 3
    assert "unexpected" not in result.output


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("Rows", 0, "do not fit the images of"), ("Columns", 3, "do not fit the images of")],
)
def test_a_seg_whose_frames_do_not_fit_its_series_is_refused(tmp_path, field, value, message):
    # fuzz seed 20261201 id 02324: Rows=0 became a broadcast error while scoring
    folder = write_dicom_series(str(tmp_path / "ct"), np.zeros((8, 6, 3), np.int16))
    segments = np.zeros((8, 6, 3, 1), bool)
    segments[2:5, 1:4, 1, 0] = True
    path = write_seg(str(tmp_path / "seg.dcm"), folder, segments, ["liver"])
    ds = pydicom.dcmread(path)
    setattr(ds, field, value)
    ds.save_as(path)
    with pytest.raises(MaskReadError, match=message):
        dicecli.load_mask(path, dicecli.io.ReadOptions(reference_image=folder))


def test_a_seg_cut_inside_an_element_header_is_one_line(runner, tmp_path):
    # fuzz seed 7 id 02244: pydicom's struct.error escaped the series scan
    folder = write_dicom_series(str(tmp_path / "ct"), np.zeros((8, 6, 3), np.int16))
    segments = np.zeros((8, 6, 3, 1), bool)
    segments[2:5, 1:4, 1, 0] = True
    path = write_seg(str(tmp_path / "seg.dcm"), folder, segments, ["liver"])
    with open(path, "rb") as f:
        head = f.read(153)
    with open(path, "wb") as f:
        f.write(head)
    for command in (["info", path], ["score", path, path]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 3, result.output
        assert "not a readable DICOM file" in result.output
        assert "unexpected" not in result.output


def test_an_rtstruct_element_of_an_unknown_value_representation_is_one_line(runner, tmp_path):
    # fuzz seed 20261201 id 02393: pydicom raised NotImplementedError for VR 'MO'
    folder = write_dicom_series(str(tmp_path / "ct"), np.zeros((8, 6, 3), np.int16))
    path = write_rtstruct(
        str(tmp_path / "rt.dcm"), folder, {"liver": [(1, [(1, 1), (5, 1), (5, 4)])]}
    )
    with open(path, "rb") as f:
        raw = f.read()
    tag = b"\x10\x00\x20\x00LO"  # (0010,0020) PatientID, explicit VR
    assert raw.count(tag) == 1
    with open(path, "wb") as f:
        f.write(raw.replace(tag, b"\x10\x00\x20\x00MO"))
    result = runner.invoke(cli, ["info", path])
    assert result.exit_code == 3, result.output
    assert "a malformed RT Structure Set (NotImplementedError" in result.output
    assert "unexpected" not in result.output


def nifti_bytes(vol, **fields) -> bytes:
    img = nib.Nifti1Image(vol, np.diag([1.0, 1.0, 2.0, 1.0]))
    header = img.header
    header["vox_offset"] = 352
    data = bytearray(header.binaryblock + b"\0" * 4 + vol.tobytes(order="F"))
    offsets = {"vox_offset": (108, "<f"), "srow_x0": (280, "<f"), "datatype": (70, "<h")}
    for key, value in fields.items():
        struct.pack_into(offsets[key][1], data, offsets[key][0], value)
    return bytes(data)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"vox_offset": 100.0}, "vox_offset 100 lies inside the header", id="offset"),
        pytest.param({"vox_offset": float("inf")}, "is not a byte offset", id="offset-inf"),
        pytest.param({"srow_x0": float("nan")}, "NaN or infinite", id="nan-affine"),
        pytest.param({"datatype": 9999}, "not a readable NIfTI header", id="datatype"),
    ],
)
def test_nifti_headers_no_valid_file_holds_are_one_line_errors(tmp_path, fields, message):
    """A vox_offset under 352 read header bytes as voxels (about 20 bogus labels, exit 0)."""
    path = tmp_path / "a.nii"
    path.write_bytes(nifti_bytes(np.ones((4, 3, 2), np.uint8), **fields))
    with pytest.raises(MaskReadError, match=message):
        dicecli.load_mask(str(path))


def test_a_gzip_bomb_is_refused_at_the_cost_of_a_megabyte(tmp_path):
    """4.7 MB of .nii.gz claiming 1,152 voxels inflated to 4.5 GB (22 s, 3.3 GB RSS)."""
    vol = np.ones((16, 12, 6), np.uint8)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    blob = packer.compress(nifti_bytes(vol)) + b"".join(
        packer.compress(bytes(1 << 22)) for _ in range(64)
    )
    path = tmp_path / "bomb.nii.gz"
    path.write_bytes(blob + packer.flush())
    start = time.perf_counter()
    with pytest.raises(MaskReadError, match="beyond the 1,504 its header promises"):
        dicecli.load_mask(str(path))
    assert time.perf_counter() - start < 2.0  # 256 MiB were never inflated


def test_masks_of_no_voxel_and_runs_of_nothing_never_pass(runner, tmp_path):
    empty = tmp_path / "empty.npy"
    np.save(empty, np.zeros((0, 5), np.uint8))
    result = runner.invoke(cli, ["score", str(empty), str(empty)])
    assert result.exit_code == 3
    assert "holds no voxels (shape 0x5)" in result.stderr
    background = write_nifti(str(tmp_path / "bg.nii.gz"), np.zeros((4, 4, 2), np.uint8))
    nothing = runner.invoke(cli, ["score", background, background, "--fail-under", "0.9"])
    assert nothing.exit_code == 5  # a gate on nothing would pass: an empty run never does
    assert "no structure to score" in nothing.stderr


def test_a_symlink_loop_and_thousands_of_other_files_are_one_warning_each(runner, tmp_path):
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    for side in (pred, gt):
        side.mkdir()
        write_nifti(str(side / "c1.nii.gz"), np.ones((4, 4, 2), np.uint8))
    os.symlink("loop.nii.gz", pred / "loop.nii.gz")
    for i in range(10_000):
        (gt / f"note{i:05d}.txt").write_bytes(b"")
    result = runner.invoke(cli, ["score", str(pred), str(gt), "--no-progress"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert "10000 entries skipped (not a mask format" in warnings[0]
    assert "and 9997 more" in warnings[0]
    assert "entry skipped (could not be read: a symbolic link loop" in warnings[1]


def test_a_carriage_return_in_a_file_name_is_quoted(runner, tmp_path):
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    names = ["a\rb", "plain", "c\nd", 'e"f']
    for side in (pred, gt):
        side.mkdir()
        for name in names:
            write_nifti(str(side / f"{name}.nii.gz"), np.ones((3, 3, 2), np.uint8))
    result = runner.invoke(cli, ["score", str(pred), str(gt), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert sorted(r["case"] for r in rows) == sorted(names)  # 4 rows, not 6


CRASHING_RUN = """
import json, os, sys
import dicecli
from dicecli import engine

original = engine._tally_case


def crashing(pair, options, parsed):
    if pair.case == "c3":
        os._exit(139)  # as a segfault ends a worker
    return original(pair, options, parsed)


engine._tally_case = crashing
engine.PARALLEL_MIN_BYTES = 0
pred, gt, journal = sys.argv[1:4]
result = dicecli.score_cases(pred, gt, jobs=2, journal=journal)
print(json.dumps({"cases": sorted(result.cases["case"].unique()),
                  "errors": [(e.case, e.error) for e in result.errors]}))
"""


def test_a_worker_that_dies_loses_only_its_case(tmp_path):
    """A crash in a worker process broke the whole pool: every case still queued failed. (A
    fresh interpreter: its pool forks workers that run the patched function.)"""
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    for side in (pred, gt):
        side.mkdir()
        for i in range(8):
            write_nifti(str(side / f"c{i}.nii.gz"), np.ones((6, 6, 3), np.uint8) * (i % 3 + 1))
    journal = tmp_path / "j.jsonl"
    run = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, str(pred), str(gt), str(journal)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    result = json.loads(run.stdout)
    assert result["cases"] == [f"c{i}" for i in range(8) if i != 3]
    assert result["errors"] == [["c3", "WorkerDied"]]
    journalled = [json.loads(line).get("case") for line in journal.read_text().splitlines()]
    assert "c3" not in journalled  # a dead worker says nothing about the case: rescored later


def test_a_signal_delivered_twice_at_once_still_writes_the_outputs(tmp_path):
    """GNU timeout signals the command and then its process group: one stop, two SIGTERMs."""
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    for side in (pred, gt):
        side.mkdir()
    rng = np.random.default_rng(3)
    for i in range(40):
        g = (rng.random((64, 64, 48)) < 0.3).astype(np.uint8)
        write_nifti(str(gt / f"c{i:02d}.nii.gz"), g)
        write_nifti(str(pred / f"c{i:02d}.nii.gz"), np.roll(g, 1, 0))
    out, journal = tmp_path / "r.json", tmp_path / "j.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "dicecli", "score", str(pred), str(gt), "-j", "1",
         "--metrics", "all", "-o", str(out), "--journal", str(journal)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        not journal.exists() or journal.read_text().count('"case"') < 2
    ):
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGTERM)
    os.killpg(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    report = json.loads(out.read_text())
    assert report["complete"] is False
    assert 1 <= len({r["case"] for r in report["cases"]}) < 40
