"""Paired statistics of `dicecli compare`, checked against numpy/scipy on hand-made data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

from dicecli.compare import (
    WorseRule,
    compare_tables,
    evaluate,
    holm,
    paired_statistics,
    parse_worse_rules,
    set_pairs,
)
from dicecli.errors import UsageError


def table(values: dict[str, float], metric: str = "dice", label: str = "liver") -> pd.DataFrame:
    return pd.DataFrame(
        {"case": list(values), "label": [label] * len(values), metric: list(values.values())}
    )


A = {"c1": 0.80, "c2": 0.70, "c3": 0.90, "c4": 0.60, "c5": np.nan, "c6": 0.75, "c7": 0.85}
B = {"c1": 0.85, "c2": 0.70, "c3": 0.88, "c4": 0.72, "c5": 0.90, "c6": 0.80, "c8": 0.99}


def test_statistics_equal_numpy_and_scipy_with_ties_zeros_nan_and_missing_cases():
    row = compare_tables({"A": table(A), "B": table(B)}, [("A", "B")], ["liver"], ["dice"], 500)
    r = row.iloc[0]
    kept = ["c1", "c2", "c3", "c4", "c6"]  # c5 NaN in A, c7 only in A, c8 only in B
    a = np.array([A[c] for c in kept])
    b = np.array([B[c] for c in kept])
    assert r.n == 5
    assert r.n_left_out == 3
    assert "1 not scored in B" in r.left_out
    assert "1 not scored in A" in r.left_out
    assert "1 undefined" in r.left_out
    assert r.mean_a == pytest.approx(a.mean(), abs=1e-12)
    assert r.mean_diff == pytest.approx((b - a).mean(), abs=1e-12)
    assert r.median_diff == pytest.approx(np.median(b - a), abs=1e-12)
    assert r.wilcoxon_p == pytest.approx(wilcoxon(b - a).pvalue, abs=1e-12)
    assert (r.wins, r.ties, r.losses) == (3, 1, 1)  # c2 is a tie (a zero difference)
    assert r.ci_low <= r.mean_diff <= r.ci_high


def test_distances_win_when_lower():
    s = paired_statistics(np.array([5.0, 3.0, 2.0]), np.array([4.0, 3.0, 6.0]), "hd95", 100)
    assert (s["wins"], s["ties"], s["losses"]) == (1, 1, 1)
    assert s["mean_diff"] == pytest.approx(1.0)


def test_all_zero_differences_give_p_1_and_no_cases_nan():
    same = paired_statistics(np.array([0.5, 0.6]), np.array([0.5, 0.6]), "dice", 100)
    assert same["wilcoxon_p"] == 1.0
    assert (same["wins"], same["ties"], same["losses"]) == (0, 2, 0)
    none = paired_statistics(np.array([]), np.array([]), "dice", 100)
    assert none["n"] == 0
    assert np.isnan(none["wilcoxon_p"])
    assert np.isnan(none["mean_diff"])


def brute_holm(p):
    """Holm by its definition: reject H_(i) while p_(i) <= alpha / (m - i); the adjusted p is
    the smallest alpha that rejects it."""
    finite = [x for x in p if np.isfinite(x)]
    m = len(finite)
    order = sorted(finite)
    out = []
    for x in p:
        if not np.isfinite(x):
            out.append(np.nan)
            continue
        k = order.index(x)
        out.append(min(1.0, max((m - j) * order[j] for j in range(k + 1))))
    return out


@pytest.mark.parametrize(
    "p",
    [
        [0.01, 0.04, 0.03, 0.2],
        [0.5, np.nan, 0.001, 0.049, 0.6],
        [0.3],
        [0.02, 0.02, 0.02],
    ],
)
def test_holm_matches_its_definition(p):
    np.testing.assert_allclose(holm(np.array(p)), brute_holm(p), rtol=0, atol=1e-15)


def test_pairs_first_against_the_rest_or_all():
    assert set_pairs(["a", "b", "c"], False) == (("a", "b"), ("a", "c"))
    assert set_pairs(["a", "b", "c"], True) == (("a", "b"), ("a", "c"), ("b", "c"))


def comparisons(mean_a, mean_b, p_holm, metric="dice", label="liver"):
    return pd.DataFrame(
        [
            {
                "label": label,
                "metric": metric,
                "a": "old",
                "b": "new",
                "mean_a": mean_a,
                "mean_b": mean_b,
                "p_holm": p_holm,
            }
        ]
    )


@pytest.mark.parametrize(
    ("mean_a", "mean_b", "p", "metric", "fails"),
    [
        pytest.param(0.90, 0.89, 0.5, "dice", False, id="within-margin"),
        pytest.param(0.90, 0.87, 0.5, "dice", True, id="beyond-margin"),
        pytest.param(0.90, 0.895, 0.01, "dice", True, id="significantly-worse"),
        pytest.param(0.90, 0.95, 0.001, "dice", False, id="significantly-better"),
        pytest.param(5.0, 5.01, 0.5, "hd95", False, id="distance-within"),
        pytest.param(5.0, 5.5, 0.5, "hd95", True, id="distance-beyond"),
    ],
)
def test_gate(mean_a, mean_b, p, metric, fails):
    gate = evaluate(comparisons(mean_a, mean_b, p, metric), metric, [WorseRule(0.02)], 0.05)
    assert gate.passed is not fails
    assert len(gate.checks) == 1


def test_label_margin_wins_over_the_global_one():
    rules = parse_worse_rules(["0.001", "liver=0.05"])
    assert evaluate(comparisons(0.9, 0.88, 0.5), "dice", rules, 0.05).passed
    assert not evaluate(comparisons(0.9, 0.88, 0.5, label="spleen"), "dice", rules, 0.05).passed


@pytest.mark.parametrize("bad", ["x", "liver=", "-0.1"])
def test_bad_margins_are_usage_errors(bad):
    with pytest.raises(UsageError, match="--fail-if-worse"):
        parse_worse_rules([bad])
