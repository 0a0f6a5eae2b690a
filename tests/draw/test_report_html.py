"""`netdsl report`: one self-contained page, checked in a real headless Chromium where one is installed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from draw.chromium import browser, render

from netdsl.draw.report_html import build_report


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def report(trained_run: Path) -> str:
    return build_report(trained_run)


def test_report_holds_every_section_with_inline_images_only(report: str, trained_run: Path) -> None:
    for heading in (
        "Network",
        "Diagram",
        "Training curves",
        "Final metrics",
        "Confusion matrix (validation split)",
        "Most confidently wrong",
    ):
        assert f"<h2>{heading}" in report
    page = _Collector()
    page.feed(report)
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(images) >= 3 and all(a["src"].startswith("data:image/") for a in images)
    assert not [t for t, a in page.tags if t in ("script", "link", "iframe")]
    assert not re.search(r"(src|href)=\"(https?:|//)", report) and "url(" not in report
    assert "conv_1" in report and "Trainable params:" in report and "adam lr 0.01" in report
    confusion = re.search(r"<table class=confusion>(.*?)</table>", report).group(1)
    counts = [int(c) for c in re.findall(r"<td[^>]*>(\d+)</td>", confusion)]
    assert sum(counts) == 359  # the validation split: 20% of the 1,797 digits


def test_report_renders_in_headless_chromium(report: str, tmp_path: Path) -> None:
    if browser() is None:
        pytest.skip("no Chromium installed (apt-get install chromium): the browser check did not run")
    page = tmp_path / "report.html"
    page.write_text(report, encoding="utf-8")
    rendered = render(page, tmp_path / "profile")
    (tmp_path / "report.png").write_bytes(rendered.screenshot)  # kept for a person to look at
    assert rendered.errors == []
    assert rendered.title.startswith("netdsl run ")
    assert rendered.images and all(i["complete"] and i["width"] > 0 for i in rendered.images), rendered.images
    assert rendered.screenshot.startswith(b"\x89PNG") and len(rendered.screenshot) > 20_000
    assert rendered.page_width <= 1200 and all(i["right"] <= 1200 for i in rendered.images), rendered.images


def test_the_curves_fit_the_page_even_with_three_panels(trained_run: Path) -> None:
    import base64
    import io

    from PIL import Image

    from netdsl.draw.report_html import PAGE_PX, curves_section
    from netdsl.draw.run_dir import read_run

    run = read_run(trained_run)
    assert run.has("loss") and run.has("accuracy") and run.has("lr")  # three panels: 1380 px at their own width
    source = re.search(r'src="data:image/png;base64,([^"]+)"', curves_section(run)).group(1)
    assert Image.open(io.BytesIO(base64.b64decode(source))).width <= PAGE_PX


def test_the_browser_check_catches_a_broken_page(tmp_path: Path) -> None:
    if browser() is None:
        pytest.skip("no Chromium installed (apt-get install chromium): the browser check did not run")
    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="missing.png"><script>console.error("boom")</script></body></html>')
    rendered = render(page, tmp_path / "profile")
    assert any("boom" in e for e in rendered.errors) and any("ERR_FILE_NOT_FOUND" in e for e in rendered.errors)
    assert rendered.images[0]["width"] == 0


def test_a_diagnosed_run_gets_a_table_and_a_heat_map(diagnosed_run: Path, report: str) -> None:
    page = build_report(diagnosed_run)
    assert "<h2>Diagnostics (epoch 2)</h2>" in page and "<h2>Diagnostics" not in report
    table = re.search(r"<table class=diagnostics>(.*?)</table>", page).group(1)
    assert re.findall(r"<tr[^>]*><td>([^<]*)</td>", table) == ["conv_1", "fc_1", "output_1", "relu_1", "relu_2"]
    heat = re.search(r"<table class=heat>(.*?)</table>", page).group(1)
    assert heat.count("<tr>") == 6 and heat.count("gradient/weight") == 6  # 5 layers x 2 epochs, 3 with weights
    assert page.index("Training curves") < page.index("Diagnostics") < page.index("Final metrics")


def test_a_diagnosed_report_renders_in_headless_chromium(diagnosed_run: Path, tmp_path: Path) -> None:
    if browser() is None:
        pytest.skip("no Chromium installed (apt-get install chromium): the browser check did not run")
    page = tmp_path / "report.html"
    page.write_text(build_report(diagnosed_run), encoding="utf-8")
    rendered = render(page, tmp_path / "profile")
    (tmp_path / "report.png").write_bytes(rendered.screenshot)  # kept for a person to look at
    assert rendered.errors == []
    assert rendered.images and all(i["complete"] and i["width"] > 0 for i in rendered.images), rendered.images


@pytest.mark.parametrize("example, collapsed", [("lenet5", False), ("resnet50", True)])
def test_a_models_notebook_html_renders_in_headless_chromium(example: str, collapsed: bool, tmp_path: Path) -> None:
    """Model._repr_html_ as a notebook shows it: the table (folded for a big net) and the diagram."""
    from helpers import EXAMPLES

    import netdsl

    model = netdsl.load(EXAMPLES / f"{example}.net")
    html = model._repr_html_()
    assert ("blocks collapsed" in html) == collapsed and ("<details open><summary>check table" in html) != collapsed
    assert html.count("<tr>") == len(model.graph) + 1 and model._repr_svg_().startswith("<svg")
    if browser() is None:
        pytest.skip("no Chromium installed (apt-get install chromium): the browser check did not run")
    page = tmp_path / "model.html"
    page.write_text(f"<!DOCTYPE html><html><head><title>{example}</title></head><body>{html}</body></html>")
    rendered = render(page, tmp_path / "profile")
    (tmp_path / "model.png").write_bytes(rendered.screenshot)  # kept for a person to look at
    assert rendered.errors == [] and rendered.title == example
    assert len(rendered.images) == 1 and rendered.images[0]["complete"] and rendered.images[0]["width"] > 200
