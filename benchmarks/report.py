#!/usr/bin/env python3
"""How long a 500-case, 3-label HTML report takes to build, and how big it is.

    python benchmarks/report.py [--cases 500] [--shape 96,96,40] [--keep DIR]

Writes the cases with gen_data.make_case (CT-like, rough boundaries), runs `dicecli report` as a
whole process (scoring included), then times the HTML writer alone on the scored result.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_data import make_case


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", type=int, default=500)
    ap.add_argument("--shape", default="96,96,40")
    ap.add_argument("--keep", help="write the data and the report here (default: a temp folder)")
    a = ap.parse_args()
    import nibabel as nib
    import numpy as np

    root = a.keep or tempfile.mkdtemp()
    shape = tuple(int(v) for v in a.shape.split(","))
    for side in ("gt", "pred"):
        os.makedirs(os.path.join(root, side), exist_ok=True)
    for i in range(a.cases):
        gt, pred = make_case(shape, i)  # type: ignore[arg-type]
        for side, volume in (("gt", gt), ("pred", pred)):
            image = nib.Nifti1Image(volume, np.diag([0.8, 0.8, 2.5, 1.0]))
            nib.save(image, os.path.join(root, side, f"case_{i:04d}.nii.gz"))
    out = os.path.join(root, "study.html")
    argv = [
        sys.executable,
        "-m",
        "dicecli",
        "report",
        os.path.join(root, "pred"),
        os.path.join(root, "gt"),
        "-o",
        out,
        "--format",
        "csv",
        "--no-progress",
    ]
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    whole = time.perf_counter() - start

    import dicecli
    from dicecli.report import write_file

    result = dicecli.score_cases(os.path.join(root, "pred"), os.path.join(root, "gt"))
    start = time.perf_counter()
    write_file(result, os.path.join(root, "again.html"), "html")
    writer = time.perf_counter() - start
    size = os.path.getsize(out) / 1e6
    print(f"{a.cases} cases of {shape}, 3 labels, {os.cpu_count()} CPUs")
    print(f"dicecli report, whole process (scoring included): {whole:.1f} s")
    print(f"HTML writer alone (plots, 10 overlays, table): {writer:.1f} s")
    print(f"report size: {size:.1f} MB")


if __name__ == "__main__":
    main()
