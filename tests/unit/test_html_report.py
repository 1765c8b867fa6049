"""The HTML study report: sections, escaping, self-containment, bootstrap intervals."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from conftest import ROOT, write_nifti

import dicecli
from dicecli.aggregate import bootstrap_ci
from dicecli.cli import cli

NIFTI = os.path.join(ROOT, "examples", "nifti")


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("report") / "study.html"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            f"{NIFTI}/pred",
            f"{NIFTI}/gt",
            "--labels",
            "liver=1,spleen=2,kidney=3",
            "-o",
            str(out),
            "--title",
            "Liver & co",
            "--worst",
            "4",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_report_has_every_section(html):
    for anchor in ('id="summary"', 'id="plots"', 'id="worst"', 'id="cases"', 'id="csv-download"'):
        assert anchor in html
    assert "<title>Liver &amp; co</title>" in html
    assert html.count('<figure class="overlay">') == 4
    assert html.count('alt="overlay of') == 4
    assert html.count("<svg") >= 5 + 3  # five metric distributions, volumes, Bland-Altman, heat map
    assert "patient005" in html
    assert "percentile bootstrap of the mean: 1000 resamples" in html


def test_report_is_self_contained(html):
    external = re.findall(r'(?:src|href)="(?!data:|#)([^"]+)"', html)
    assert external == []
    assert "<link" not in html
    assert not re.search(r"url\(\s*['\"]?https?:", html)
    assert "<metadata>" not in html


def test_hostile_names_are_escaped(tmp_path):
    gt = np.zeros((6, 6, 3), np.uint8)
    gt[1:4, 1:4, 1] = 1
    pred = np.roll(gt, 1, axis=0)
    write_nifti(str(tmp_path / "g.nii.gz"), gt)
    write_nifti(str(tmp_path / "p.nii.gz"), pred)
    (tmp_path / "pairs.csv").write_text(
        "case,pred,gt\n<script>alert(1)</script>.nii.gz,p.nii.gz,g.nii.gz\n"
    )
    out = tmp_path / "r.html"
    from click.testing import CliRunner

    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--pairs",
            str(tmp_path / "pairs.csv"),
            "--labels",
            "<i>x</i>=1",
            "--title",
            "<b>t</b>",
            "-o",
            str(out),
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<i>x</i>" not in text
    assert "&lt;i&gt;x&lt;/i&gt;" in text
    assert "<b>t</b>" not in text


def test_report_without_html_output_is_a_usage_error(runner):
    result = runner.invoke(cli, ["report", f"{NIFTI}/pred", f"{NIFTI}/gt"])
    assert result.exit_code == 2
    assert "needs -o REPORT.html" in result.stderr


def test_score_writes_html_too_and_api_result_carries_the_ci(tmp_path):
    result = dicecli.score_cases(f"{NIFTI}/pred", f"{NIFTI}/gt", jobs=1)
    liver = result.summary.iloc[0]
    assert liver.dice_ci_low <= liver.dice_mean <= liver.dice_ci_high
    from dicecli.report import write_file

    write_file(result, str(tmp_path / "r.html"), "html")
    assert (tmp_path / "r.html").stat().st_size > 10_000


def test_bootstrap_ci_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    values = np.random.default_rng(5).normal(0.8, 0.1, 200)
    ours = bootstrap_ci(values, 5000)
    theirs = stats.bootstrap(
        (values,), np.mean, n_resamples=5000, method="percentile", random_state=1
    ).confidence_interval
    assert ours[0] == pytest.approx(theirs.low, abs=0.004)
    assert ours[1] == pytest.approx(theirs.high, abs=0.004)
    assert bootstrap_ci(np.full(10, 0.5), 100) == (0.5, 0.5)
    assert np.isnan(bootstrap_ci(np.array([0.5]), 100)[0])


def test_a_report_written_through_the_api_has_its_inputs(tmp_path):
    """The inputs come from the run itself, not from the command line's state."""
    from dicecli.report import write_file

    result = dicecli.score_cases(f"{NIFTI}/pred", f"{NIFTI}/gt", jobs=1)
    assert result.inputs == {"pred": f"{NIFTI}/pred", "gt": f"{NIFTI}/gt"}
    out = tmp_path / "api.html"
    write_file(result, str(out), "html")
    text = out.read_text()
    assert f"<dt>pred</dt><dd><code>{NIFTI}/pred</code></dd>" in text
    assert f"<dt>gt</dt><dd><code>{NIFTI}/gt</code></dd>" in text
