"""Shared argument parsing and CSV writing for the peer scripts (one process per tool run)."""

from __future__ import annotations

import argparse
import glob
import os


def parse(description: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("gt_dir")
    ap.add_argument("pred_dir")
    ap.add_argument("--labels", default="1,2,3")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    a.labels = [int(v) for v in a.labels.split(",")]
    return a


def cases(gt_dir: str, pred_dir: str) -> list[tuple[str, str, str]]:
    """(case, gt path, pred path) for every pred/*.nii.gz."""
    out = []
    for path in sorted(glob.glob(os.path.join(pred_dir, "*.nii.gz"))):
        name = os.path.basename(path)
        out.append((name[: -len(".nii.gz")], os.path.join(gt_dir, name), path))
    return out


def write(path: str, rows: list[tuple[object, ...]], columns: str = "case,label,dice") -> None:
    with open(path, "w") as f:
        f.write(columns + "\n")
        for row in rows:
            f.write(",".join(repr(v) if isinstance(v, float) else str(v) for v in row) + "\n")
