#!/usr/bin/env python3
"""dicecli side by side with the floor and every installed peer, whole processes, same folder.

    python benchmarks/run.py benchmarks/data/ct --rounds 5 [--peer-python PEERS_VENV/bin/python]

First each tool runs once and its Dice (and counts, where it reports them) must agree with
dicecli's; then R rounds run every tool in a rotating order, each as a whole process (imports
included). Printed: seconds per case (median, min, max over rounds), the ratio to dicecli, and the
peak RSS of the process (MB). ``--markdown`` prints the table for the README.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")

#: name -> (script or None for dicecli, module that must import, in the peer interpreter?)
TOOLS = {
    "dicecli": (None, "dicecli", False),
    "floor (numpy + libdeflate)": (os.path.join(HERE, "floor.py"), "deflate", False),
    "SimpleITK LabelOverlapMeasures": (os.path.join(PEERS, "sitk_overlap.py"), "SimpleITK", True),
    "medpy dc": (os.path.join(PEERS, "medpy_dc.py"), "medpy", True),
    "nnU-Net v2 evaluation": (os.path.join(PEERS, "nnunet_eval.py"), "nnunetv2", True),
    "MONAI DiceMetric": (os.path.join(PEERS, "monai_dice.py"), "monai", True),
    "seg-metrics": (os.path.join(PEERS, "segmetrics.py"), "seg_metrics", True),
}
SLOW = {"seg-metrics"}


def command(name: str, data: str, labels: str, out: str, peer_python: str, jobs: int) -> list[str]:
    gt, pred = os.path.join(data, "gt"), os.path.join(data, "pred")
    script, _, peer = TOOLS[name]
    if script is None:
        return [
            sys.executable,
            "-m",
            "dicecli",
            "score",
            pred,
            gt,
            "--labels",
            labels,
            "--no-progress",
            "-j",
            str(jobs),
            "--format",
            "csv",
            "-o",
            out,
        ]
    python = peer_python if peer else sys.executable
    return [python, script, gt, pred, "--labels", labels, "--out", out]


def available(name: str, peer_python: str) -> bool:
    _, module, peer = TOOLS[name]
    python = peer_python if peer else sys.executable
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{argv[1]} failed (status {status}):\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def read(path: str) -> dict[tuple[str, int], dict[str, float]]:
    with open(path, newline="") as f:
        return {
            (r["case"], int(r["label"] if r["label"].isdigit() else r["values"])): {
                k: float(v) if v else math.nan
                for k, v in r.items()
                if k in ("dice", "tp", "fp", "fn")
            }
            for r in csv.DictReader(f)
        }


def disagreement(ours: dict, theirs: dict) -> str | None:
    """None when a tool's Dice agrees with dicecli's to 1e-6 and its counts exactly."""
    if set(ours) != set(theirs):
        return f"scored {len(theirs)} case/labels, dicecli {len(ours)}"
    worst_dice, worst_count = 0.0, 0
    for key, row in theirs.items():
        worst_dice = max(worst_dice, abs(row["dice"] - ours[key]["dice"]))
        for count in ("tp", "fp", "fn"):
            if count in row:
                worst_count = max(worst_count, abs(int(row[count]) - int(ours[key][count])))
    if worst_dice <= 1e-6 and worst_count == 0:
        return None
    return f"Dice off by up to {worst_dice:.2g}, counts by up to {worst_count} voxels"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("data", help="folder with gt/ and pred/ (benchmarks/gen_data.py)")
    ap.add_argument("--labels", default="1,2,3")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1, help="dicecli -j (the peers run one process)")
    ap.add_argument(
        "--peer-python",
        default=sys.executable,
        help="interpreter of the venv where the peers are installed",
    )
    ap.add_argument("--slow-peers", action="store_true", help="include seg-metrics")
    ap.add_argument("--only", help="comma-separated tool names to run (besides dicecli)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument(
        "--baseline",
        metavar="DIR",
        help="also time the dicecli of another source checkout (git worktree add DIR REV), "
        "same interpreter and dependencies: the 'speed unchanged' check of a refactoring",
    )
    a = ap.parse_args()
    n_cases = len([f for f in os.listdir(os.path.join(a.data, "pred")) if f.endswith(".nii.gz")])
    names = [
        n
        for n in TOOLS
        if available(n, a.peer_python)
        and (a.slow_peers or n not in SLOW)
        and (not a.only or n == "dicecli" or n in a.only.split(","))
    ]
    missing = [n for n in TOOLS if n not in names]
    baseline = f"dicecli baseline ({a.baseline})"
    if a.baseline:
        names.insert(1, baseline)
    tmp = tempfile.mkdtemp()
    outs = {n: os.path.join(tmp, f"{i}.csv") for i, n in enumerate(names)}
    argv = {
        n: command(
            "dicecli" if n == baseline else n, a.data, a.labels, outs[n], a.peer_python, a.jobs
        )
        for n in names
    }
    envs: dict[str, dict[str, str] | None] = dict.fromkeys(names)
    if a.baseline:
        envs[baseline] = {**os.environ, "PYTHONPATH": os.path.abspath(a.baseline)}
    for name in names:  # agreement first, and a warm page cache
        timed(argv[name], envs[name])
    ours = read(outs["dicecli"])
    notes = {n: disagreement(ours, read(outs[n])) for n in names[1:]}
    times: dict[str, list[float]] = {n: [] for n in names}
    rss: dict[str, float] = dict.fromkeys(names, 0.0)
    for r in range(a.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            wall, peak = timed(argv[name], envs[name])
            times[name].append(wall / n_cases)
            rss[name] = max(rss[name], peak)
    base = statistics.median(times["dicecli"])
    print(
        f"# {n_cases} cases in {a.data}; {a.rounds} rounds; dicecli -j {a.jobs}; "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    for name, note in notes.items():
        print(f"# {name}: " + (note or "Dice agrees with dicecli's to 1e-6, counts exactly"))
    header = ("tool", "s/case median", "min", "max", "× dicecli", "peak RSS MB")
    rows = [
        (
            n,
            f"{statistics.median(t):.3f}",
            f"{min(t):.3f}",
            f"{max(t):.3f}",
            f"{statistics.median(t) / base:.2f}",
            f"{rss[n]:.0f}",
        )
        for n, t in times.items()
    ]
    if a.markdown:
        print("| " + " | ".join(header) + " |")
        print("| --- |" + " ---: |" * (len(header) - 1))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
        for row in (header, *rows):
            print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    if missing:
        print(f"# not run (not installed, or slow without --slow-peers): {', '.join(missing)}")


if __name__ == "__main__":
    main()
