"""Readers against mutated files: a seeded mutator (deterministic) writes NIfTI-1/2, MetaImage,
NRRD, PNG and DICOM files with extreme header fields, truncations, byte flips, corrupt gzip
streams and a decompression bomb, and reads each in a forked child (1.5 GB address space): the
process never dies (a segfault took whole runs down), nothing but dicecli's own errors is
raised (no "unexpected X"), and a file that is read scores Dice 1 against itself with the
counts an independent reader (nibabel, SimpleITK, Pillow) finds. The default run draws a few
hundred inputs; ``-m slow`` draws thousands.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import resource
import signal
import struct
import zlib

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a child per input")

AS_LIMIT = 1_500_000_000
#: How much more memory than this process a read of a small file may take (MB): a bomb's
#: 400 MB stream inflated whole is caught.
GROWTH_MB = 150
NAN, INF = float("nan"), float("inf")

# NIfTI-1 header fields: (offset, struct code)
N1 = {
    "dim0": (40, "h"), "dim1": (42, "h"), "dim3": (46, "h"), "datatype": (70, "h"),
    "bitpix": (72, "h"), "pixdim1": (80, "f"), "vox_offset": (108, "f"), "scl_slope": (112, "f"),
    "scl_inter": (116, "f"), "qform_code": (252, "h"), "sform_code": (254, "h"),
    "quatern_b": (256, "f"), "srow_x0": (280, "f"), "srow_z2": (320, "f"),
}  # fmt: skip
N2 = {
    "dim0": (16, "q"), "dim1": (24, "q"), "datatype": (12, "h"), "vox_offset": (168, "q"),
    "scl_slope": (176, "d"), "scl_inter": (184, "d"), "srow_x0": (400, "d"),
}  # fmt: skip
VALUES = [0, -1, 1, 7, 100, 351, 2**15 - 1, -(2**15), 1e38, NAN, INF, 0.5, 9999]
TEXT_VALUES = ["0", "-1", "2147483648", "99999999999", "nan", "inf", "1e308", "abc", ""]


def packed(data: bytes, offset: int, code: str, value: float) -> bytes:
    b = bytearray(data)
    if code in "hq":
        bits = 16 if code == "h" else 64
        if isinstance(value, float) and not np.isfinite(value):
            value = 2 ** (bits - 1) - 1
        value = int(max(min(value, 2 ** (bits - 1) - 1), -(2 ** (bits - 1))))
    struct.pack_into("<" + code, b, offset, value)
    return bytes(b)


def labels(rng: np.random.Generator, shape=(12, 10, 5)) -> np.ndarray:
    a = np.zeros(shape, np.uint8)
    a[2:7, 3:8] = 1
    a[6:11, 1:5] = 2
    a[rng.random(shape) < 0.05] = 3
    return a


def seeds(folder: str, rng: np.random.Generator) -> dict[str, bytes]:
    import nibabel as nib
    import SimpleITK as sitk
    from PIL import Image

    vol = labels(rng)
    affine = np.array([[-1.5, 0, 0, 10], [0, -1.2, 0, 20], [0, 0, 3.0, -30], [0, 0, 0, 1.0]])
    out = {}
    for name, cls in (("n1.nii", nib.Nifti1Image), ("n2.nii", nib.Nifti2Image)):
        buffer = io.BytesIO()
        img = cls(vol, affine)
        img.header.set_data_dtype(np.uint8)
        img.to_file_map({"image": nib.FileHolder(fileobj=buffer), "header": None})
        out[name] = buffer.getvalue()
    out["n1.nii.gz"] = gzip.compress(out["n1.nii"], mtime=0)
    image = sitk.GetImageFromArray(np.ascontiguousarray(vol.T))
    image.SetSpacing((1.5, 1.2, 3.0))
    for name, compress in (("s.mha", False), ("sz.mha", True), ("s.nrrd", False)):
        path = os.path.join(folder, name)
        sitk.WriteImage(image, path, compress)
        with open(path, "rb") as f:
            out[name] = f.read()
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(vol[:, :, 2].T)).save(buffer, "PNG")
    out["p.png"] = buffer.getvalue()
    return out


def mutations(seed_files: dict[str, bytes], rng: np.random.Generator, extra: int):
    """(name, mutation, bytes): every header field at extreme values, then ``extra`` random
    truncations and byte flips per seed."""
    for name, data in seed_files.items():
        if name.startswith(("n1", "n2")):
            raw = gzip.decompress(data) if name.endswith(".gz") else data
            table = N2 if name.startswith("n2") else N1
            for field, (offset, code) in table.items():
                for value in VALUES:
                    mutated = packed(raw, offset, code, value)
                    blob = gzip.compress(mutated, mtime=0) if name.endswith(".gz") else mutated
                    yield name, f"{field}={value}", blob
        if name.endswith((".mha", ".nrrd")):
            cut = (
                data.index(b"ElementDataFile = LOCAL\n") + 24
                if name.endswith(".mha")
                else (data.index(b"\n\n") + 2)
            )
            head, body = data[:cut].decode("latin-1").splitlines(keepends=True), data[cut:]
            sep = "=" if name.endswith(".mha") else ":"
            for i, line in enumerate(head):
                key = line.split(sep)[0].strip()
                if not key or key.startswith(("NRRD", "#", "ElementDataFile")):
                    continue
                for value in rng.choice(TEXT_VALUES, 3, replace=False):
                    text = "".join(
                        [*head[:i], f"{line.split(sep)[0]}{sep} {value}\n", *head[i + 1 :]]
                    )
                    yield name, f"{key}={value!r}", text.encode("latin-1") + body
        for _ in range(extra):
            at = int(rng.integers(1, len(data)))
            yield name, f"truncate@{at}", data[:at]
            flipped = bytearray(data)
            for _ in range(int(rng.integers(1, 4))):
                i = int(rng.integers(0, len(flipped)))
                flipped[i] ^= 1 << int(rng.integers(0, 8))
            yield name, f"flip@{at}", bytes(flipped)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 400 MB of zeros after a 1,152-voxel header
    header = gzip.decompress(seed_files["n1.nii.gz"])
    bomb = packer.compress(header) + b"".join(packer.compress(bytes(1 << 22)) for _ in range(100))
    yield "n1.nii.gz", "gzip bomb", bomb + packer.flush()


def in_child(function, *args, stderr: str | None = None):
    """``function(*args)`` in a forked child with an address-space limit (its stderr into the
    file ``stderr``); ("signal", n) when it died of one, else its pickled ("ok", value) or
    ("raised", type name, message)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            if stderr is not None:
                os.dup2(os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
            resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
            signal.alarm(60)
            result = ("ok", function(*args))
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            result = ("raised", type(e).__name__, str(e)[:300])
        with os.fdopen(write, "wb") as f:
            f.write(pickle.dumps(result))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status, usage = os.wait4(pid, 0)
    if os.WIFSIGNALED(status):
        return ("signal", os.WTERMSIG(status))
    grew = usage.ru_maxrss / 1024 - resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if grew > GROWTH_MB:
        return ("memory", int(grew))
    return pickle.loads(data)


def counts(array) -> dict[float, int]:
    values, n = np.unique(np.asarray(array), return_counts=True)
    return {float(v): int(c) for v, c in zip(values, n, strict=True)}


def dicecli_reads(path: str):
    """Read twice (a read from uninitialised memory gives other voxels each time: a file then
    scored Dice 0-0.99 against itself), or dicecli's own one-line error."""
    import dicecli
    from dicecli.errors import DiceCliError

    try:
        first = np.array(dicecli.load_mask(path).array)
        again = np.array(dicecli.load_mask(path).array)
    except DiceCliError as e:
        return ("clean", str(e).splitlines()[0])
    same = first.shape == again.shape and np.array_equal(first, again, equal_nan=True)
    return ("accepted", same and first.size > 0, counts(first))


def oracle_reads(path: str):
    if path.endswith((".nii", ".nii.gz")):
        import nibabel as nib

        a = np.asanyarray(nib.load(path).dataobj)
        while a.ndim > 3 and a.shape[-1] == 1:
            a = a[..., 0]
    elif path.endswith(".png"):
        from PIL import Image

        with Image.open(path) as im:
            a = np.asarray(im)
        if a.dtype == np.uint8 and set(np.unique(a).tolist()) <= {0, 255}:
            a = a // 255
    else:
        import SimpleITK as sitk

        a = sitk.GetArrayFromImage(sitk.ReadImage(path))
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        return None
    return counts(a)


def check(tmp_path, extra: int, seed: int, every: int = 1) -> list[str]:
    """The problems found with the mutations of ``seed`` (every ``every``-th one)."""
    rng = np.random.default_rng(seed)
    folder = tmp_path / "seeds"
    folder.mkdir()
    problems = []
    for i, (name, mutation, blob) in enumerate(mutations(seeds(str(folder), rng), rng, extra)):
        if i % every and "bomb" not in mutation:
            continue
        path = tmp_path / f"{i:05d}" / name
        path.parent.mkdir()
        path.write_bytes(blob)
        noise = tmp_path / f"{i:05d}" / "stderr"
        ours = in_child(dicecli_reads, str(path), stderr=str(noise))
        where = f"{name} {mutation}"
        if noise.read_text(errors="replace").strip():  # a library's warning leaked
            problems.append(f"{where}: printed {noise.read_text(errors='replace')[:120]!r}")
        if ours[0] == "signal":
            problems.append(f"{where}: the process died of signal {ours[1]}")
        elif ours[0] == "memory":
            problems.append(f"{where}: took {ours[1]} MB more memory to read")
        elif ours[0] == "raised":
            problems.append(f"{where}: unexpected {ours[1]}: {ours[2]}")
        elif ours[1][0] == "accepted":
            _, perfect, found = ours[1]
            if not perfect:
                problems.append(f"{where}: read, but not the same voxels twice (or none)")
            oracle = in_child(oracle_reads, str(path)) if "bomb" not in mutation else None
            if oracle is not None and oracle[0] != "ok":
                problems.append(f"{where}: read, but the reference reader refuses it")
            elif oracle is not None and oracle[1] is not None and oracle[1] != found:
                problems.append(f"{where}: counts {found} but the reference reader's {oracle[1]}")
    return problems


def test_mutated_files_never_crash_hang_or_score_garbage(tmp_path):
    assert check(tmp_path, extra=4, seed=20261201, every=4) == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_files_many_more(tmp_path, seed):
    assert check(tmp_path, extra=60, seed=seed) == []
