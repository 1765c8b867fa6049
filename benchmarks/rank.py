#!/usr/bin/env python3
"""A challenge of 20 submissions x 500 cases x 3 structures (the rank issue's size), ranked
with 1000 bootstrap resamples under each scheme; median seconds over rounds, in this process
(the ranking itself, no file reading), side by side with a floor and a naive peer:

- floor: the least any bootstrap of aggregate-then-rank can do -- one matrix product of the
  resample weights with the values and an argsort per resample;
- scipy loop: test-then-rank as a script would write it, ``scipy.stats.wilcoxon`` per ordered
  pair per resample (timed on a few resamples and scaled to 1000: a full run takes hours).

    python benchmarks/rank.py [--submissions 20 --cases 500 --structures 3 --bootstrap 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from dicecli.models.rank import RankSettings
from dicecli.rank import rank_tables


def challenge(submissions: int, cases: int, structures: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(23)
    names = [f"case{i:04d}" for i in range(cases)]
    labels = [f"structure_{k}" for k in range(structures)]
    difficulty = rng.uniform(0, 0.3, (structures, cases))
    out = {}
    for s in range(submissions):
        skill = rng.uniform(0, 0.1)
        dice = np.clip(0.9 - difficulty - skill + rng.normal(0, 0.05, difficulty.shape), 0, 1)
        out[f"team{s:02d}"] = pd.DataFrame(
            {
                "case": np.tile(names, structures),
                "label": np.repeat(labels, cases),
                "dice": dice.ravel(),
            }
        )
    return out


def floor(tables: dict[str, pd.DataFrame], bootstrap: int, seed: int) -> None:
    values = np.stack([t["dice"].to_numpy() for t in tables.values()], axis=1)
    structures = tables[next(iter(tables))]["label"].nunique()
    per = values.reshape(structures, -1, values.shape[1])
    rng = np.random.default_rng(seed)
    cases = per.shape[1]
    weights = np.stack([np.bincount(rng.integers(0, cases, cases), minlength=cases)
                        for _ in range(bootstrap)]).astype(float)  # fmt: skip
    for k in range(structures):
        means = weights @ per[k] / cases
        np.argsort(-means, axis=1)


def scipy_loop(tables: dict[str, pd.DataFrame], resamples: int, seed: int) -> float:
    """Seconds for ``resamples`` resamples of test-then-rank with scipy's wilcoxon per pair."""
    from scipy.stats import wilcoxon

    values = np.stack([t["dice"].to_numpy() for t in tables.values()], axis=1)
    structures = tables[next(iter(tables))]["label"].nunique()
    per = values.reshape(structures, -1, values.shape[1])
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(resamples):
        index = rng.integers(0, per.shape[1], per.shape[1])
        for k in range(structures):
            v = per[k][index]
            for i in range(v.shape[1]):
                for j in range(v.shape[1]):
                    if i != j:
                        wilcoxon(v[:, i], v[:, j], alternative="greater")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--submissions", type=int, default=20)
    ap.add_argument("--cases", type=int, default=500)
    ap.add_argument("--structures", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scipy-resamples", type=int, default=2)
    a = ap.parse_args()
    tables = challenge(a.submissions, a.cases, a.structures)
    rows: list[tuple[str, list[float]]] = []
    for scheme in ("aggregate-then-rank", "rank-then-aggregate", "test-then-rank"):
        settings = RankSettings(scheme=scheme, bootstrap=a.bootstrap, seed=1)  # type: ignore[arg-type]
        times = []
        for _ in range(a.rounds):
            start = time.perf_counter()
            rank_tables(tables, settings)
            times.append(time.perf_counter() - start)
        rows.append((f"dicecli {scheme}", times))
    times = []
    for _ in range(a.rounds):
        start = time.perf_counter()
        floor(tables, a.bootstrap, 1)
        times.append(time.perf_counter() - start)
    rows.append(("floor: matrix product + argsort (aggregate-then-rank)", times))
    scaled = scipy_loop(tables, a.scipy_resamples, 1) * (a.bootstrap + 1) / a.scipy_resamples
    rows.append((f"scipy wilcoxon loop, test-then-rank (from {a.scipy_resamples} resamples)",
                 [scaled]))  # fmt: skip
    print(
        f"{a.submissions} submissions x {a.cases} cases x {a.structures} structures, "
        f"{a.bootstrap} bootstrap resamples, {a.rounds} rounds\n"
    )
    print("| what | s median | min | max |\n| --- | ---: | ---: | ---: |")
    for name, t in rows:
        print(f"| {name} | {statistics.median(t):.2f} | {min(t):.2f} | {max(t):.2f} |")


if __name__ == "__main__":
    main()
