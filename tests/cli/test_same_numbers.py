"""The same numbers on every machine: every output byte-identical (the JSON's timestamp aside)
whatever numpy's CPU kernels (``NPY_DISABLE_CPU_FEATURES`` turns off the AVX2/AVX-512 or SVE
ones this CPU has), the number of jobs, the scheduler, the order of the cases or a resumed
journal; and each aggregate the exactly rounded value of its definition."""

from __future__ import annotations

import csv
import json
import math
import os
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from test_examples import EXAMPLES, blocks  # type: ignore[import-not-found]

from dicecli import exact

CASES = 200


def dispatched_features() -> list[str]:
    """numpy's dispatch targets that this CPU has (x86-64: X86_V3/X86_V4/AVX512_*, older
    numpy AVX2/AVX512F...; arm64: ASIMDHP, SVE...): the kernels the variable can turn off."""
    from numpy._core._multiarray_umath import (  # type: ignore[attr-defined]
        __cpu_dispatch__,
        __cpu_features__,
    )

    return [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]


def without_simd() -> dict[str, str]:
    features = dispatched_features()
    return {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(features)} if features else {}


def dicecli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dicecli", *args],
        cwd=cwd,
        env={**(env or os.environ), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 cases: label 1 alternates Dice 0.8 and 0.8001, so its mean is on the rounding
    boundary 0.80005 and a float sum lands on either side of it by the order of the additions;
    label 2 varies at random (seeded)."""
    root = tmp_path_factory.mktemp("cohort")
    (root / "pred").mkdir()
    (root / "gt").mkdir()
    rng = np.random.default_rng(29)
    for i in range(CASES):
        ref = np.zeros((128, 128), np.uint8)
        pred = np.zeros_like(ref)
        ref.flat[:10000] = 1
        tp = 8001 if i % 2 else 8000  # 2tp / (2tp + fp + fn), fp = fn = 10000 - tp
        pred.flat[:tp] = 1
        pred.flat[10000 : 20000 - tp] = 1
        n = int(rng.integers(50, 400))
        ref.flat[14000 : 14000 + n] = 2
        pred.flat[14000 : 14000 + int(rng.integers(0, n))] = 2
        pred.flat[15000 : 15000 + int(rng.integers(0, 300))] = 2
        np.save(root / "pred" / f"case{i:03d}.npy", pred)
        np.save(root / "gt" / f"case{i:03d}.npy", ref)
    lines = [f"case{i:03d},pred/case{i:03d}.npy,gt/case{i:03d}.npy" for i in range(CASES)]
    (root / "manifest-reversed.csv").write_text(
        "case,pred,gt\n" + "\n".join(reversed(lines)) + "\n"
    )
    return root


def outputs(folder: Path, tag: str) -> dict[str, str]:
    """The run's files, the JSON without its timestamp."""
    report = json.loads((folder / f"{tag}.json").read_text())
    del report["created"]
    summation = report.pop("settings")["summation"]  # the rest records the run's own options
    report["summation"] = summation
    report.pop("backend")  # a Dask run says its workers chose; the numbers are the point
    report["options"].pop("pairs", None)
    report["options"].pop("jobs", None)
    report["options"].pop("scheduler", None)
    report["options"].pop("journal", None)
    report["options"].pop("resume", None)
    for case in report["cases"]:
        case["pred_path"] = _tail(case["pred_path"])
        case["gt_path"] = _tail(case["gt_path"])
    return {
        "json": json.dumps(report, sort_keys=True),
        "csv": _normalised_csv(folder / f"{tag}.csv"),
        "md": (folder / f"{tag}.md").read_text(),
    }


def _tail(path: str) -> str:
    """pred/case000.npy, whether the manifest made the path absolute or not."""
    return "/".join(Path(path).parts[-2:])


def _normalised_csv(path: Path) -> str:
    rows = list(csv.reader(path.read_text().splitlines()))
    header = rows[0]
    paths = [header.index("pred_path"), header.index("gt_path")]
    for row in rows[1:]:
        for p in paths:
            row[p] = _tail(row[p])
    return "\n".join(",".join(r) for r in rows)


def _score(cohort: Path, tag: str, extra: list[str], env: dict[str, str] | None = None) -> str:
    given = ["--pairs", "manifest-reversed.csv"] if "reversed" in tag else ["pred", "gt"]
    files = ["-o", f"{tag}.json", "-o", f"{tag}.csv", "-o", f"{tag}.md"]
    return dicecli(["score", *given, *files, *extra, "--no-progress"], cohort, env)


def test_score_is_byte_identical_across_kernels_jobs_order_and_resume(cohort: Path) -> None:
    table = _score(cohort, "base", ["-j", "1"])
    runs = {
        "j2": (["-j", "2"], None),
        "reversed": (["-j", "1"], None),
        "journal": (["-j", "2", "--journal", "run.journal"], None),
        "resumed": (["-j", "1", "--journal", "run.journal", "--resume"], None),
    }
    simd_off = without_simd()
    if simd_off:
        runs["nosimd"] = (["-j", "1"], simd_off)
        runs["nosimd_reversed_j2"] = (["-j", "2"], simd_off)
    base = outputs(cohort, "base")
    for tag, (extra, env) in runs.items():
        assert _score(cohort, tag, extra, env) == table, tag
        assert outputs(cohort, tag) == base, tag


def test_score_on_dask_is_byte_identical(cohort: Path) -> None:
    pytest.importorskip("distributed")
    table = _score(cohort, "local", ["-j", "1"])
    assert _score(cohort, "dask", ["--scheduler", "local:2"]) == table
    assert outputs(cohort, "dask") == outputs(cohort, "local")


def test_summary_is_the_exactly_rounded_statistic(cohort: Path) -> None:
    """Independent of dicecli.exact: Fractions of the per-case values."""
    _score(cohort, "exact", ["-j", "1"])
    report = json.loads((cohort / "exact.json").read_text())
    for label in ("1", "2"):
        values = [c["dice"] for c in report["cases"] if c["label"] == label]
        row = next(r for r in report["summary"] if r["label"] == label)
        exact_mean = sum(map(Fraction, values)) / len(values)
        assert row["dice_mean"] == float(exact_mean)
        variance = sum((Fraction(v) - exact_mean) ** 2 for v in values) / (len(values) - 1)
        assert row["dice_std"] == math.sqrt(float(variance))
        ordered = sorted(values)  # 200 values: the median is the midpoint of the middle two
        assert row["dice_median"] == float((Fraction(ordered[99]) + Fraction(ordered[100])) / 2)
    label1 = next(r for r in report["summary"] if r["label"] == "1")
    assert label1["dice_mean"] == float(Fraction(8000, 10000) / 2 + Fraction(16002, 20000) / 2)
    assert report["settings"]["summation"]["value"] == exact.SUMMATION


@pytest.mark.skipif(not without_simd(), reason="numpy dispatches no SIMD kernel on this CPU")
@pytest.mark.parametrize(
    "readme", EXAMPLES, ids=lambda p: os.path.relpath(p, ROOT).replace("/README.md", "")
)
def test_examples_print_the_same_without_simd_kernels(readme: str) -> None:
    """Every example command, with numpy's AVX2/AVX-512 (or SVE) kernels off, prints what its
    README shows (tests/test_examples.py checks the same with them on)."""
    for argv, expected in blocks(readme):
        if argv[0] != "dicecli":
            continue
        output = subprocess.run(
            [sys.executable, "-m", "dicecli", *argv[1:]],
            cwd=ROOT,
            env={**without_simd(), "COLUMNS": "240"},
            capture_output=True,
            text=True,
            check=False,
        )
        got = [ln.rstrip() for ln in (output.stdout + output.stderr).splitlines()]
        assert sorted(got) == sorted(expected), argv


def test_exact_mean_does_not_depend_on_order() -> None:
    rng = random.Random(5)
    values = [rng.random() * 10 ** rng.randint(-8, 3) for _ in range(500)]
    expected = float(sum(map(Fraction, values)) / len(values))
    for _ in range(5):
        rng.shuffle(values)
        assert exact.mean(values) == expected
        assert exact.fsum(values) == math.fsum(values)


def test_weighted_sums_are_exact() -> None:
    rng = np.random.default_rng(1)
    values = rng.random(50) * 10.0 ** rng.integers(-300, 300, 50)
    weights = rng.integers(0, 5, (20, 50))
    sums, shift = exact.weighted_sums(weights, values)
    for row, total in zip(weights, sums, strict=True):
        assert Fraction(total) * Fraction(2) ** shift == sum(
            int(w) * Fraction(v) for w, v in zip(row, values, strict=True)
        )


def test_quantiles_equal_numpy_where_numpy_is_exact() -> None:
    values = [0.0, 1.0, 2.0, 4.0, 8.0]  # interpolation in halves and quarters: exact in floats
    assert exact.quantiles(values, [0.0, 0.25, 0.5, 0.625, 1.0]) == list(
        np.quantile(values, [0.0, 0.25, 0.5, 0.625, 1.0])
    )
    assert math.isnan(exact.quantiles([], [0.5])[0])
    assert exact.std([1.0]) != exact.std([1.0])  # NaN with one value
