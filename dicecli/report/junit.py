"""JUnit XML: one testsuite per label, one testcase per case plus one for the label mean.

A testcase fails (``<failure>``) when its case or the label mean misses a gate rule, with the value
and the threshold; a case that could not be scored is an ``<error>`` in every label's suite.
GitLab, Jenkins and the GitHub test reporters read this layout.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from dicecli.models import RuleFailure, RunResult


def write_junit(result: RunResult, stream: IO[str]) -> None:
    gate = result.gate
    metric = gate.settings.metric if gate else "dice"
    failures: dict[tuple[str, str | None], list[RuleFailure]] = {}
    for f in gate.failures if gate else ():
        failures.setdefault((f.label, f.case), []).append(f)
    root = ET.Element("testsuites", name="dicecli")
    for region in result.regions:
        rows = result.cases[result.cases["label"] == region.name]
        suite = ET.SubElement(root, "testsuite", name=region.name)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        mean = result.summary.loc[result.summary["label"] == region.name, f"{metric}_mean"]
        cases: list[tuple[str, float, list[RuleFailure]]] = [
            (f"mean {metric}", float(mean.iloc[0]), failures.get((region.name, None), [])),
        ]
        cases += [
            (str(r.case), float(getattr(r, metric)), failures.get((region.name, str(r.case)), []))
            for r in rows.itertuples(index=False)
        ]
        for name, value, failed in cases:
            case = ET.SubElement(suite, "testcase", name=name, classname=region.name)
            ET.SubElement(case, "system-out").text = f"{metric} = {_num(value)}"
            counts["tests"] += 1
            for f in failed:
                counts["failures"] += 1
                node = ET.SubElement(case, "failure", message=f.message, type=f.rule)
                node.text = f"{f.message}\nvalue: {f.value:.6g}\nthreshold: {f.threshold:.6g}"
        for error in result.errors:
            case = ET.SubElement(suite, "testcase", name=error.case, classname=region.name)
            node = ET.SubElement(
                case, "error", message=error.message.splitlines()[0], type=error.error
            )
            node.text = error.message
            counts["tests"] += 1
            counts["errors"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
    ET.indent(root)
    stream.write(ET.tostring(root, encoding="unicode", xml_declaration=True))
    stream.write("\n")


def _num(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6g}"
