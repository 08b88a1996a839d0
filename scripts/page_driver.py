"""The serving page driven as a person drives it, in Debian's Chromium through Playwright: open it, draw
a stroke with the mouse, read the answer, save the pad. Shared by the browser tests and
`page_screenshots.py` (Playwright's own browser download cannot work offline)."""

import base64
import os
from pathlib import Path

CHROMIUM = os.environ.get("RNN_LIGHTNING_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SEVEN = ((90, 60), (190, 60), (150, 150), (120, 230))  # a 7 on the 280-pixel pad: the bar, then the stem


def open_page(browser, base: str, width: int = 1280, height: int = 900):
    """(page, its list of JavaScript errors) of the page at `base`."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/")
    return page, errors


def draw(page, strokes=SEVEN) -> dict:
    """Draws one stroke through `strokes` (pad pixels) with the mouse; the answer once the page is idle."""
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    (x, y), *rest = strokes
    page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=8)
    page.mouse.up()
    page.wait_for_function("window.lastAnswer !== null && document.body.dataset.busy === 'false'")
    return page.evaluate("window.lastAnswer")


def canvas_png(page, path: Path) -> Path:
    """The drawing pad saved as a PNG file, as the browser encodes it."""
    url = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
    path.write_bytes(base64.b64decode(url.split(",", 1)[1]))
    return path
