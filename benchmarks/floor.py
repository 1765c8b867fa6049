#!/usr/bin/env python3
"""The floor: the smallest honest pipeline for a folder of uint8 .nii.gz label maps.

Read each file, decompress with libdeflate, parse the NIfTI-1 header by hand, view the voxels as a
flat uint8 buffer, count TP/ref/pred per label with ==, & and count_nonzero in 256 Ki-voxel
chunks, write CSV. No geometry check, no pairing rules, uint8 only. (After ../shared/bench/floor.py,
the script the speed issue's figures were measured with.)

    python benchmarks/floor.py GT_DIR PRED_DIR --labels 1,2,3 --out floor.csv
"""

from __future__ import annotations

import argparse
import glob
import os
import struct

import deflate
import numpy as np

CHUNK = 1 << 18


def load(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        raw = deflate.gzip_decompress(f.read())
    end = "<" if struct.unpack_from("<i", raw, 0)[0] == 348 else ">"
    dim = struct.unpack_from(end + "8h", raw, 40)
    datatype = struct.unpack_from(end + "h", raw, 70)[0]
    offset = int(struct.unpack_from(end + "f", raw, 108)[0])
    assert datatype in (2, 256), "the floor reads uint8/int8 label maps only"
    n = int(np.prod(dim[1 : 1 + dim[0]]))
    return np.frombuffer(raw, np.uint8, count=n, offset=offset)


def counts(g: np.ndarray, p: np.ndarray, labels: list[int]) -> list[tuple[int, int, int]]:
    out = []
    for k in labels:
        tp = ng = npd = 0
        for s in range(0, g.size, CHUNK):
            gk, pk = g[s : s + CHUNK] == k, p[s : s + CHUNK] == k
            tp += int(np.count_nonzero(gk & pk))
            ng += int(np.count_nonzero(gk))
            npd += int(np.count_nonzero(pk))
        out.append((tp, npd - tp, ng - tp))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gt_dir")
    ap.add_argument("pred_dir")
    ap.add_argument("--labels", default="1,2,3")
    ap.add_argument("--out", default="floor.csv")
    a = ap.parse_args()
    labels = [int(v) for v in a.labels.split(",")]
    with open(a.out, "w") as f:
        f.write("case,label,dice,tp,fp,fn\n")
        for path in sorted(glob.glob(os.path.join(a.pred_dir, "*.nii.gz"))):
            name = os.path.basename(path)[: -len(".nii.gz")]
            g, p = load(os.path.join(a.gt_dir, os.path.basename(path))), load(path)
            for k, (tp, fp, fn) in zip(labels, counts(g, p, labels), strict=True):
                dice = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
                f.write(f"{name},{k},{dice!r},{tp},{fp},{fn}\n")


if __name__ == "__main__":
    main()
