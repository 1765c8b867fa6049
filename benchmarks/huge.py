#!/usr/bin/env python3
"""Count a pair of huge label volumes (default 2^31 voxels each, 4.3 GB together) and report the
extra memory counting needed: it works chunk by chunk, so the working set stays bounded.

    python benchmarks/huge.py [--voxels 2147483648]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from dicecli.metrics import joint_histogram


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--voxels", type=int, default=1 << 31)
    a = ap.parse_args()
    n = a.voxels
    side = 1024
    shape = (side, side, n // (side * side))
    # filled, not np.zeros: a decompressed volume is all written, while untouched zero pages
    # would make counting pay the page faults
    gt = np.empty(shape, np.uint8, order="F")
    pred = np.empty(shape, np.uint8, order="F")
    gt.fill(0)
    pred.fill(0)
    gt[100:700, 200:800, :] = 1
    gt[300:400, 300:400, :] = 2
    pred[110:710, 200:800, :] = 1
    pred[300:420, 300:400, :] = 2
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    hist = joint_histogram(gt, pred)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()  # a second pass, traced (tracing slows it, so it is not the one timed)
    joint_histogram(gt, pred)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total = int(hist.counts.sum())
    assert total == gt.size, (total, gt.size)
    print(
        f"{gt.size:,} voxels per volume ({2 * gt.nbytes / 1e9:.1f} GB for the pair), "
        f"{hist.counts.size} value pairs, all voxels counted"
    )
    print(f"counting: {seconds:.1f} s ({seconds * 1e9 / gt.size:.2f} ns/voxel)")
    print(f"extra memory while counting (tracemalloc peak): {peak / 1e6:.1f} MB")
    print(f"process peak RSS before / after counting: {before:.0f} / {after:.0f} MB")


if __name__ == "__main__":
    main()
