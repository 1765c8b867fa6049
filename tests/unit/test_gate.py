"""Gate rules on hand-made per-case tables (expected values computed by hand)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dicecli.errors import UsageError
from dicecli.gate import GateSettings, evaluate_gate, parse_fail_under
from dicecli.models import Region

REGIONS = (Region("liver", (1,)), Region("tumor", (2,)))


def table(rows):
    return pd.DataFrame(rows, columns=["case", "label", "dice"])


CASES = table(
    [
        ("a", "liver", 0.90),
        ("b", "liver", 0.80),
        ("c", "liver", 0.70),
        ("a", "tumor", 0.60),
        ("b", "tumor", math.nan),
        ("c", "tumor", 0.40),
    ]
)


def test_parse_fail_under():
    assert parse_fail_under(["0.8", "liver=0.9", "1+2=0.5"]) == (0.8, {"liver": 0.9, "1+2": 0.5})
    with pytest.raises(UsageError, match="--fail-under"):
        parse_fail_under(["liver=high"])


def test_mean_gate_pass_and_fail():
    # liver mean 0.8, tumor mean over valid values 0.5 (one NaN skipped)
    assert evaluate_gate(CASES, REGIONS, GateSettings(fail_under=0.5)).passed
    outcome = evaluate_gate(CASES, REGIONS, GateSettings(fail_under=0.55))
    (failure,) = outcome.failures
    assert (failure.label, failure.rule, failure.value) == ("tumor", "mean", pytest.approx(0.5))
    assert failure.message == "tumor mean dice 0.500 < 0.550 (2 cases, 1 empty skipped)"
    assert outcome.empty_skipped == {"liver": 0, "tumor": 1}


def test_per_label_threshold_by_name_or_value_overrides_global():
    outcome = evaluate_gate(
        CASES, REGIONS, GateSettings(fail_under=0.1, fail_under_labels={"1": 0.85})
    )
    assert [(f.label, f.threshold) for f in outcome.failures] == [("liver", 0.85)]
    with pytest.raises(UsageError, match=r"no label 'lung' \(labels: liver, tumor\)"):
        evaluate_gate(CASES, REGIONS, GateSettings(fail_under_labels={"lung": 0.5}))


@pytest.mark.parametrize(
    ("policy", "tumor_mean", "case_failures"),
    [
        pytest.param("skip", 0.5, {"c"}, id="skip"),
        pytest.param("fail", (0.6 + 0.0 + 0.4) / 3, {"b", "c"}, id="fail"),
        pytest.param("pass", (0.6 + 1.0 + 0.4) / 3, {"c"}, id="pass"),
    ],
)
def test_gate_empty_policies(policy, tumor_mean, case_failures):
    settings = GateSettings(fail_under=0.99, fail_case_under=0.5, gate_empty=policy)
    outcome = evaluate_gate(CASES, REGIONS, settings)
    means = {f.label: f.value for f in outcome.failures if f.rule == "mean"}
    assert means["tumor"] == pytest.approx(tumor_mean)
    assert {f.case for f in outcome.failures if f.rule == "case" and f.label == "tumor"} == (
        case_failures
    )


def test_case_gate_names_each_case():
    outcome = evaluate_gate(CASES, REGIONS, GateSettings(fail_case_under=0.75))
    assert [(f.case, f.label) for f in outcome.failures] == [
        ("c", "liver"),
        ("a", "tumor"),
        ("c", "tumor"),
    ]
    assert outcome.failures[0].message == "case c liver dice 0.700 < 0.750"


def test_regression_against_baseline():
    baseline = {
        "schema_version": 1,
        "cases": [
            {"case": "a", "label": "liver", "dice": 0.95},
            {"case": "b", "label": "liver", "dice": 0.85},
            {"case": "c", "label": "liver", "dice": 0.75},
            {"case": "old", "label": "liver", "dice": 0.9},
            {"case": "a", "label": "tumor", "dice": 0.6},
            {"case": "c", "label": "tumor", "dice": 0.4},
        ],
    }
    # liver: baseline mean (0.95+0.85+0.75+0.9)/4 = 0.8625, now 0.8 -> drop 0.0625
    outcome = evaluate_gate(
        CASES, REGIONS, GateSettings(max_drop=0.05, max_case_drop=0.04), baseline
    )
    drops = {(f.rule, f.label, f.case): f.value for f in outcome.failures}
    assert drops[("drop", "liver", None)] == pytest.approx(0.0625)
    assert drops[("case_drop", "liver", "a")] == pytest.approx(0.05)
    assert ("drop", "tumor", None) not in drops
    assert outcome.only_in_baseline == ("old",)
    liver = next(c for c in outcome.comparison if c.label == "liver")
    assert liver.delta == pytest.approx(-0.0625)
    assert evaluate_gate(CASES, REGIONS, GateSettings(max_drop=0.07), baseline).passed
