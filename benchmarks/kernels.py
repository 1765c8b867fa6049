#!/usr/bin/env python3
"""Counting kernels on one 512x512x300 four-label pair in memory (no I/O), CPU and GPU.

    python benchmarks/kernels.py [--shape 512,512,300] [--repeat 7]

Prints ns per voxel, voxels/s and GB/s of mask bytes (two uint8 masks: 2 bytes per voxel) for
dicecli's kernel (sparse joint histogram; binary fast path on 0/1 masks), the alternatives it was
chosen over, and the memory-read floor (one chunked pass reading both masks). Where CuPy and a
CUDA device are present, the same dicecli kernel runs on device arrays, and the host->device copy
is timed separately. Every kernel's counts are checked against dicecli's before timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_data import make_case

from dicecli.metrics.counting import CHUNK, joint_histogram


def table_of(hist: Any, k: int = 4) -> np.ndarray:
    out = np.zeros((k, k), np.int64)
    out[hist.ref_values, hist.pred_values] = hist.counts
    return out


def per_label_chunks(g: np.ndarray, p: np.ndarray, k: int = 4) -> np.ndarray:
    out = np.zeros((k, 3), np.int64)
    for s in range(0, g.size, CHUNK):
        gc, pc = g[s : s + CHUNK], p[s : s + CHUNK]
        for label in range(1, k):
            gk, pk = gc == label, pc == label
            out[label] += (np.count_nonzero(gk & pk), np.count_nonzero(gk), np.count_nonzero(pk))
    return out


def per_label_whole(g: np.ndarray, p: np.ndarray, k: int = 4) -> np.ndarray:
    out = np.zeros((k, 3), np.int64)
    for label in range(1, k):
        gk, pk = g == label, p == label
        out[label] = (np.count_nonzero(gk & pk), np.count_nonzero(gk), np.count_nonzero(pk))
    return out


def dense_bincount(g: np.ndarray, p: np.ndarray, k: int = 4) -> np.ndarray:
    acc = np.zeros(k * k, np.int64)
    for s in range(0, g.size, CHUNK):
        code = g[s : s + CHUNK] * np.uint8(k)
        code += p[s : s + CHUNK]
        acc += np.bincount(code, minlength=k * k)
    return acc.reshape(k, k)


def read_floor(g: np.ndarray, p: np.ndarray) -> None:
    buf = np.empty(CHUNK, np.uint8)
    for s in range(0, g.size, CHUNK):
        n = min(CHUNK, g.size - s)
        np.bitwise_or(g[s : s + n], p[s : s + n], out=buf[:n])


def margins(table: np.ndarray) -> np.ndarray:
    """(tp, ref, pred) per label from a joint histogram table."""
    return np.stack([np.diag(table), table.sum(1), table.sum(0)], axis=1)


def timeit(f: Callable[[], Any], repeat: int, sync: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        f()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, seconds: float, n: int) -> str:
    return (
        f"| {name} | {seconds * 1e9 / n:.3f} | {n / seconds / 1e9:.2f} | "
        f"{2 * n / seconds / 1e9:.2f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shape", default="512,512,300")
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    shape = tuple(int(v) for v in a.shape.split(","))
    gt, pred = make_case(shape, 0)  # type: ignore[arg-type]
    g, p = gt.ravel(), pred.ravel()
    gb, pb = (g > 0).view(np.uint8), (p > 0).view(np.uint8)
    n = g.size
    reference = table_of(joint_histogram(g, p))
    checks = {
        "per-label ==/&/count_nonzero, 256 Ki chunks": lambda: per_label_chunks(g, p)[1:],
        "per-label ==/&/count_nonzero, whole arrays": lambda: per_label_whole(g, p)[1:],
        "dense joint histogram (bincount), 256 Ki chunks": lambda: margins(dense_bincount(g, p))[
            1:
        ],
    }
    for name, f in checks.items():
        assert np.array_equal(f(), margins(reference)[1:]), name
    print(
        f"{shape} uint8 pair, {n / 1e6:.1f} M voxels, "
        f"{np.count_nonzero(g | p) / n:.1%} foreground in either mask; median of {a.repeat}\n"
    )
    print("| kernel | ns/voxel | G voxels/s | GB/s of mask bytes |")
    print("| --- | ---: | ---: | ---: |")
    print(
        row(
            "**dicecli: sparse joint histogram (CPU)**",
            timeit(lambda: joint_histogram(g, p), a.repeat),
            n,
        )
    )
    print(
        row(
            "dicecli: binary fast path on 0/1 masks (CPU)",
            timeit(lambda: joint_histogram(gb, pb), a.repeat),
            n,
        )
    )
    for name, f in checks.items():
        print(row(name, timeit(f, a.repeat), n))
    print(
        row(
            "memory-read floor (one chunked pass over both)",
            timeit(lambda: read_floor(g, p), a.repeat),
            n,
        )
    )
    gpu_rows(g, p, gb, pb, reference, a.repeat)


def gpu_rows(
    g: np.ndarray, p: np.ndarray, gb: np.ndarray, pb: np.ndarray, reference: np.ndarray, repeat: int
) -> None:
    try:
        import cupy as cp

        name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    except Exception as e:  # noqa: BLE001 - any CUDA problem means no GPU rows
        print(f"\n(no GPU rows: {type(e).__name__}: {e})")
        return
    sync = cp.cuda.Device().synchronize
    n = g.size
    dg, dp = cp.asarray(g), cp.asarray(p)
    assert np.array_equal(table_of(joint_histogram(dg, dp, cp)), reference)
    joint_histogram(dg[:16], dp[:16], cp)  # compile the kernels before timing
    print(
        row(
            f"**dicecli fused kernel on {name} (CuPy, device arrays)**",
            timeit(lambda: joint_histogram(dg, dp, cp), repeat, sync),
            n,
        )
    )
    dgb, dpb = cp.asarray(gb), cp.asarray(pb)
    print(
        row(
            f"dicecli binary fast path on {name}",
            timeit(lambda: joint_histogram(dgb, dpb, cp), repeat, sync),
            n,
        )
    )

    def bincount_codes() -> np.ndarray:
        code = dg.astype(cp.uint8) * cp.uint8(4) + dp.astype(cp.uint8)
        return cp.bincount(code, minlength=16).get().reshape(4, 4)

    assert np.array_equal(bincount_codes(), reference)
    print(
        row(
            f"cupy.bincount of codes g*k+p (dicecli before the fused kernel) on {name}",
            timeit(bincount_codes, repeat, sync),
            n,
        )
    )
    unaligned_g, unaligned_p = dg[1:], dp[1:]
    print(
        row(
            f"fused kernel, unaligned views (scalar loads) on {name}",
            timeit(lambda: joint_histogram(unaligned_g, unaligned_p, cp), repeat, sync),
            n - 1,
        )
    )
    read_both = cp.ReductionKernel(
        "T g, T p", "uint32 y", "(unsigned int)(g | p)", "a | b", "y = a", "0", "read_both"
    )
    print(
        row(
            f"device read floor: one OR reduction over both masks ({name})",
            timeit(lambda: int(read_both(dg, dp)), repeat, sync),
            n,
        )
    )
    print(
        row(
            f"host->device copy of both masks ({name})",
            timeit(lambda: (cp.asarray(g), cp.asarray(p)), repeat, sync),
            n,
        )
    )


if __name__ == "__main__":
    main()
