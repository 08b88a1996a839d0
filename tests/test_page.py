"""The drawing page in a real browser: Debian's Chromium driven by Playwright (its own browser download
cannot work offline). In CI (CI=true) a missing browser fails the test instead of skipping it."""

import os
import shutil

import numpy as np
import pytest
from PIL import Image
from torchvision.datasets import MNIST

from tests.serving import running_server

CHROMIUM = os.environ.get("RNN_LIGHTNING_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def browser():
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[test]')"
    if missing is None and not shutil.which(CHROMIUM):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def test_draw_a_digit_then_pick_a_file(browser, trained_checkpoint, real_data_dir, tmp_path):
    digit = MNIST(str(real_data_dir), train=False).data[0].numpy()  # a 7
    picture = tmp_path / "seven.png"
    Image.fromarray(255 - np.asarray(Image.fromarray(digit).resize((112, 112)))).save(picture)
    with running_server(trained_checkpoint, tmp_path) as (base, _):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/")
        assert page.locator("#answer").inner_text() == "–"
        box = page.locator("#pad").bounding_box()
        page.mouse.move(box["x"] + 90, box["y"] + 60)
        page.mouse.down()
        for x, y in ((190, 60), (150, 150), (120, 230)):  # a 7: the bar, then the stem
            page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
        page.mouse.up()
        page.wait_for_function("document.getElementById('answer').textContent.trim() !== '–'")
        assert page.locator("#answer").inner_text().strip().isdigit()
        shown = [float(v) for v in page.locator("#bars .bar").evaluate_all(
            "bars => bars.map(bar => bar.getAttribute('aria-valuenow'))")]  # fmt: skip
        assert len(shown) == 10 and abs(sum(shown) - 1) < 0.01  # the ten bars hold the answer's probabilities
        assert "after reading row" in page.locator("#note").inner_text()
        painted = page.evaluate(  # the reading's heatmap has been painted: some cell is not white
            """() => { const c = document.getElementById('heat').getContext('2d');
                       const d = c.getImageData(44, 22, 280, 280).data;
                       for (let i = 0; i < d.length; i += 4) if (d[i] < 250 && d[i + 3] > 0) return true;
                       return false; }"""
        )
        assert painted
        page.screenshot(path=str(tmp_path / "drawn.png"))

        page.locator("#file").set_input_files(str(picture))
        page.wait_for_function("document.getElementById('status').textContent.startsWith('Read.')")
        page.wait_for_function("document.getElementById('answer').textContent === '7'")
        page.locator("#heat").hover()
        assert page.locator("#rowinfo").inner_text().startswith("After row")

        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(f"{base}/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        phone.keyboard.press("Tab")
        assert phone.evaluate("document.activeElement.id") == "clear"  # buttons are reachable by keyboard
        assert not errors, errors
