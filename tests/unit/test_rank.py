"""Rankings against challengeR's own test vectors (tests/testthat of wiesenfa/challengeR:
test-testThenRank.R, test-rankThenAggregate.R, test-aggregateThenRank.R), hand-computed cases
with ties and missing cases, and scipy: the Wilcoxon tests, Kendall's tau. Small-better tasks
use hd95 (lower is better in dicecli's metric registry), large-better ones dice."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dicecli.errors import UsageError
from dicecli.models.rank import RankSettings
from dicecli.rank import rank_tables
from dicecli.rank.stability import kendall_tau, resample_weights
from dicecli.rank.wilcoxon import signed_rank_tests


def challenge(metric: str, **submissions: dict[str, float]) -> dict[str, pd.DataFrame]:
    """challengeR's data frames: algorithm -> {case: value} (NaN: NA), one task "T1"."""
    return {
        algo: pd.DataFrame({"case": list(v), "label": "T1", metric: list(v.values())})
        for algo, v in submissions.items()
    }


def board(tables, **settings) -> dict[str, tuple[float, float]]:
    result = rank_tables(tables, RankSettings(**settings))
    rows = result.tasks
    return {r["submission"]: (r["score"], r["rank"]) for r in rows.to_dict(orient="records")}


FOUR = {f"C{i}": None for i in range(1, 5)}


def values(value, cases=FOUR):
    return dict.fromkeys(cases, value)


def by_case(cases, drawn) -> dict[str, float]:
    return dict(zip(cases, drawn, strict=True))


# -- test-then-rank (test-testThenRank.R) --------------------------------------------------------


def test_test_then_rank_two_algorithms_small_values_better():
    tables = challenge("hd95", A1=values(0.2), A2=values(1.0))
    assert board(tables, metrics=("hd95",), scheme="test-then-rank") == {
        "A1": (1.0, 1.0),
        "A2": (0.0, 2.0),
    }


def test_test_then_rank_two_algorithms_large_values_better():
    tables = challenge("dice", A1=values(0.2), A2=values(1.0))
    assert board(tables, scheme="test-then-rank") == {"A1": (0.0, 2.0), "A2": (1.0, 1.0)}


def test_test_then_rank_ties_max_and_one_case():
    two = challenge("hd95", A1={"C1": 0.6, "C2": 0.6}, A2={"C1": 0.8, "C2": 0.8})
    assert board(two, metrics=("hd95",), scheme="test-then-rank", ties="max") == {
        "A1": (0.0, 2.0),
        "A2": (0.0, 2.0),
    }
    one = challenge("hd95", A1={"C1": 0.6}, A2={"C1": 0.8})
    assert board(one, metrics=("hd95",), scheme="test-then-rank") == {
        "A1": (0.0, 1.0),
        "A2": (0.0, 1.0),
    }


def test_test_then_rank_missing_values_replaced_or_removed():
    a1 = {"C1": math.nan, "C2": 0.2, "C3": 0.2, "C4": 0.2}
    tables = challenge("hd95", A1=a1, A2=values(1.0))
    # NAs are replaced by numeric value 100 / by 0 / removed (challengeR's na.treat)
    assert board(tables, metrics=("hd95",), scheme="test-then-rank", missing="100") == {
        "A1": (0.0, 1.0),
        "A2": (0.0, 1.0),
    }
    assert board(tables, metrics=("hd95",), scheme="test-then-rank", missing="0")["A1"] == (1, 1)
    assert board(tables, metrics=("hd95",), scheme="test-then-rank", missing="drop") == {
        "A1": (0.0, 1.0),
        "A2": (0.0, 1.0),
    }


# -- rank-then-aggregate (test-rankThenAggregate.R) ----------------------------------------------


def test_rank_then_aggregate_one_case_small_and_large_better():
    small = challenge("hd95", A1={"C1": 0.6}, A2={"C1": 0.8})
    assert board(small, metrics=("hd95",), scheme="rank-then-aggregate") == {
        "A1": (1.0, 1.0),
        "A2": (2.0, 2.0),
    }
    large = challenge("dice", A1={"C1": 0.6}, A2={"C1": 0.8})
    assert board(large, scheme="rank-then-aggregate") == {"A1": (2.0, 2.0), "A2": (1.0, 1.0)}


def test_rank_then_aggregate_ties_min_and_max():
    tied = challenge("hd95", A1={"C1": 0.6}, A2={"C1": 0.6})
    assert board(tied, metrics=("hd95",), scheme="rank-then-aggregate", ties="min") == {
        "A1": (1.0, 1.0),
        "A2": (1.0, 1.0),
    }
    assert board(tied, metrics=("hd95",), scheme="rank-then-aggregate", ties="max") == {
        "A1": (2.0, 2.0),
        "A2": (2.0, 2.0),
    }


def test_rank_then_aggregate_two_cases_mean_and_median():
    tables = challenge("hd95", A1={"C1": 0.6, "C2": 0.4}, A2={"C1": 0.8, "C2": 1.0})
    for how in ("mean", "median"):
        assert board(tables, metrics=("hd95",), scheme="rank-then-aggregate", aggregate=how) == {
            "A1": (1.0, 1.0),
            "A2": (2.0, 2.0),
        }


def test_rank_then_aggregate_assigns_the_worst_rank_to_na():
    tables = challenge("dice", A1={"C1": math.nan}, A2={"C1": 0.8})
    assert board(tables, scheme="rank-then-aggregate") == {"A1": (2.0, 2.0), "A2": (1.0, 1.0)}


# -- aggregate-then-rank (test-aggregateThenRank.R) ----------------------------------------------


def test_aggregate_then_rank_mean_median_and_directions():
    tables = challenge("hd95", A1={"C1": 0.6, "C2": 0.4}, A2={"C1": 0.8, "C2": 1.0})
    assert board(tables, metrics=("hd95",)) == {"A1": (0.5, 1.0), "A2": (0.9, 2.0)}
    assert board(tables, metrics=("hd95",), aggregate="median") == {
        "A1": (pytest.approx(0.5), 1.0),
        "A2": (pytest.approx(0.9), 2.0),
    }
    large = challenge("dice", A1={"C1": 0.6}, A2={"C1": 0.8})
    assert board(large) == {"A1": (0.6, 2.0), "A2": (0.8, 1.0)}
    tied = challenge("hd95", A1={"C1": 0.6}, A2={"C1": 0.6})
    assert board(tied, metrics=("hd95",), ties="max") == {"A1": (0.6, 2.0), "A2": (0.6, 2.0)}


def test_aggregate_then_rank_na_replaced_or_removed():
    tables = challenge("dice", A1={"C1": math.nan}, A2={"C1": 0.8})
    assert board(tables, missing="0") == {"A1": (0.0, 2.0), "A2": (0.8, 1.0)}
    assert board(tables, missing="-1") == {"A1": (-1.0, 2.0), "A2": (0.8, 1.0)}
    dropped = board(tables, missing="drop")  # challengeR leaves A1 out: it has no value
    assert dropped["A2"] == (0.8, 1.0)
    assert math.isnan(dropped["A1"][0])
    assert dropped["A1"][1] == 2.0  # no value at all ranks last


# -- hand-computed: ties, missing cases, quantiles, consensus ------------------------------------


def test_missing_cases_take_the_worst_observed_value_or_the_given_one():
    tables = challenge(
        "hd95", A={"c1": 1.0, "c2": 2.0, "c3": 3.0}, B={"c1": 2.0, "c2": 2.0}, C={"c1": 9.0}
    )
    # B lacks c3, C lacks c2 and c3: the worst hd95 observed (9.0) fills them
    got = board(tables, metrics=("hd95",))
    assert got == {"A": (2.0, 1.0), "B": (13 / 3, 2.0), "C": (9.0, 3.0)}
    given = board(tables, metrics=("hd95",), worst={"hd95": 374.0})
    assert given["B"][0] == pytest.approx((2 + 2 + 374) / 3)


def test_a_quantile_aggregate_is_numpys():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0, 1, 11), rng.uniform(0, 1, 11)
    cases = [f"c{i}" for i in range(11)]
    tables = challenge("dice", A=by_case(cases, a), B=by_case(cases, b))
    got = board(tables, aggregate="q0.05")
    assert got["A"][0] == pytest.approx(np.quantile(a, 0.05))
    assert got["B"][0] == pytest.approx(np.quantile(b, 0.05))


def test_consensus_is_the_weighted_mean_rank_over_tasks():
    tables = {
        "A": pd.DataFrame({"case": ["c1", "c1"], "label": ["L1", "L2"], "dice": [0.9, 0.1],
                           "hd95": [1.0, 1.0]}),
        "B": pd.DataFrame({"case": ["c1", "c1"], "label": ["L1", "L2"], "dice": [0.5, 0.5],
                           "hd95": [2.0, 0.5]}),
    }  # fmt: skip
    result = rank_tables(tables, RankSettings(metrics=("dice", "hd95")))
    # A: ranks 1 (L1 dice), 2 (L2 dice), 1 (L1 hd95), 2 (L2 hd95) -> 1.5; B the mirror -> 1.5
    consensus = dict(zip(result.consensus["submission"], result.consensus["score"], strict=True))
    assert consensus == {"A": 1.5, "B": 1.5}
    weighted = rank_tables(tables, RankSettings(metrics=("dice", "hd95"), weights={"dice": 3}))
    scores = dict(zip(weighted.consensus["submission"], weighted.consensus["score"], strict=True))
    assert scores == {"A": pytest.approx((1 * 3 + 2 * 3 + 1 + 2) / 8), "B": pytest.approx(1.5)}


# -- scipy as the oracle ---------------------------------------------------------------------------


def test_significance_equals_scipys_one_sided_wilcoxon_and_a_brute_force_holm():
    rng = np.random.default_rng(11)
    cases = [f"c{i}" for i in range(25)]
    means = {"A": 0.7, "B": 0.72, "C": 0.8}
    subs = {s: by_case(cases, rng.normal(m, 0.1, 25)) for s, m in means.items()}
    tables = challenge("dice", **subs)
    result = rank_tables(tables, RankSettings(scheme="test-then-rank", p_adjust="holm"))
    rows = result.significance
    raw = {}
    for r in rows.to_dict(orient="records"):
        x = np.array([subs[r["better"]][c] for c in cases])
        y = np.array([subs[r["than"]][c] for c in cases])
        expected = stats.wilcoxon(
            x, y, alternative="greater", method="asymptotic", correction=True
        ).pvalue
        assert r["p"] == pytest.approx(expected, rel=1e-12)
        raw[(r["better"], r["than"])] = r["p"]
    # Holm by its definition: sorted p times (m - i), running maximum, capped at 1
    keys = sorted(raw, key=raw.get)
    m, running, holm = len(keys), 0.0, {}
    for i, key in enumerate(keys):
        running = max(running, (m - i) * raw[key])
        holm[key] = min(running, 1.0)
    for r in rows.to_dict(orient="records"):
        assert r["p_adjusted"] == pytest.approx(holm[(r["better"], r["than"])], rel=1e-12)


def test_weighted_signed_ranks_equal_scipy_on_the_resamples_they_stand_for():
    rng = np.random.default_rng(5)
    diffs = np.round(rng.normal(0.05, 0.3, (18, 4)), 1)  # ties and zeros
    weights = resample_weights(18, 40, seed=9)
    greater, less = signed_rank_tests(diffs, weights)
    for b in range(40):
        for p in range(4):
            d = np.repeat(diffs[:, p], weights[b])
            if not np.any(d):
                assert math.isnan(greater[b, p])
                continue
            for alternative, ours in (("greater", greater), ("less", less)):
                expected = stats.wilcoxon(
                    d, alternative=alternative, method="asymptotic", correction=True
                ).pvalue
                assert ours[b, p] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_kendall_tau_equals_scipys_tau_b():
    rng = np.random.default_rng(2)
    full = rng.permutation(8).astype(float) + 1
    resampled = rng.integers(1, 9, (30, 8)).astype(float)  # with ties
    ours = kendall_tau(full, resampled)
    for row, tau in zip(resampled, ours, strict=True):
        assert tau == pytest.approx(stats.kendalltau(full, row).statistic, rel=1e-12)


def test_the_bootstrap_is_reproducible_for_a_seed():
    rng = np.random.default_rng(8)
    cases = [f"c{i}" for i in range(40)]
    tables = challenge("dice", **{s: by_case(cases, rng.uniform(0.6, 0.9, 40)) for s in "ABCD"})
    first = rank_tables(tables, RankSettings(bootstrap=300, seed=4))
    again = rank_tables(tables, RankSettings(bootstrap=300, seed=4))
    other = rank_tables(tables, RankSettings(bootstrap=300, seed=5))
    pd.testing.assert_frame_equal(first.frequencies, again.frequencies)
    pd.testing.assert_frame_equal(first.kendall, again.kendall)
    assert not first.frequencies.equals(other.frequencies)
    shares = first.frequencies.groupby(["label", "submission"])["share"].sum()
    assert np.allclose(shares, 1.0)


def test_a_resample_is_the_scheme_on_the_drawn_cases():
    """One resample, materialised: its ranking equals the full scheme on the drawn rows."""
    rng = np.random.default_rng(13)
    cases = [f"c{i:02d}" for i in range(20)]
    subs = {s: by_case(cases, rng.uniform(0.5, 0.9, 20)) for s in "ABC"}
    result = rank_tables(challenge("dice", **subs), RankSettings(bootstrap=1, seed=21))
    drawn = np.repeat(np.arange(20), resample_weights(20, 1, 21)[0])
    means = {s: np.mean([subs[s][cases[i]] for i in drawn]) for s in "ABC"}
    order = sorted(means, key=means.get, reverse=True)
    freq = result.frequencies[result.frequencies["label"] == "T1"]
    got = {r["submission"]: r["rank"] for r in freq.to_dict(orient="records")}
    assert got == {s: float(order.index(s) + 1) for s in "ABC"}


def test_usage_errors():
    tables = challenge("dice", A={"c1": 0.5}, B={"c1": 0.6})
    with pytest.raises(UsageError, match="at least two submissions"):
        rank_tables({"A": tables["A"]}, RankSettings())
    with pytest.raises(UsageError, match="--metric hd95: no submission's results have it"):
        rank_tables(tables, RankSettings(metrics=("hd95",)))
