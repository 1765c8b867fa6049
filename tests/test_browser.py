"""Open the HTML report in headless Chromium: no console errors, plots and overlays render,
clicking a header sorts the table, the filter box filters. A screenshot is saved."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import ROOT

from dicecli.cli import cli

pytestmark = pytest.mark.browser
webdriver = pytest.importorskip("selenium.webdriver")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,2000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_report_in_headless_chromium(browser, runner, tmp_path):
    from selenium.webdriver.common.by import By

    nifti = os.path.join(ROOT, "examples", "nifti")
    out = tmp_path / "study.html"
    result = runner.invoke(
        cli,
        [
            "report",
            f"{nifti}/pred",
            f"{nifti}/gt",
            "-o",
            str(out),
            "--labels",
            "liver=1,spleen=2,kidney=3",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    browser.get(out.as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    svgs = browser.find_elements(By.CSS_SELECTOR, "figure.plot svg")
    assert len(svgs) >= 8
    assert all(s.size["width"] > 50 and s.size["height"] > 50 for s in svgs)
    images = browser.find_elements(By.CSS_SELECTOR, "figure.overlay img")
    assert len(images) == 10
    assert all(browser.execute_script("return arguments[0].naturalWidth", i) > 50 for i in images)

    def column(index):
        cells = browser.find_elements(
            By.CSS_SELECTOR, f"#cases-table tbody tr td:nth-child({index})"
        )
        return [c.get_attribute("data-v") or c.text for c in cells]

    header = browser.find_elements(By.CSS_SELECTOR, "#cases-table thead th")[2]  # dice
    assert header.text.startswith("dice")
    header.click()
    ascending = [float(v) for v in column(3)]
    assert ascending == sorted(ascending)
    header.click()
    descending = [float(v) for v in column(3)]
    assert descending == sorted(descending, reverse=True)
    box = browser.find_element(By.ID, "filter")
    box.send_keys("patient005")
    visible = [
        r
        for r in browser.find_elements(By.CSS_SELECTOR, "#cases-table tbody tr")
        if r.is_displayed()
    ]
    assert len(visible) == 3
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    target = os.environ.get("DICECLI_SCREENSHOTS")
    if target:
        os.makedirs(target, exist_ok=True)
        shutil.copy(shot, os.path.join(target, "report.png"))
