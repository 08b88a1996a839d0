"""The serving page's screenshots in docs/: a 7 drawn with the mouse, as the browser test draws it, the
pointer on one row of the reading, at a desktop and a phone width, in Debian's Chromium.

    python scripts/page_screenshots.py --ckpt_path PATH [--row 18] [--out docs]

Writes `serve_page.png` (1280 px wide) and `serve_page_phone.png` (390 px) and prints what they show.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from page_driver import CHROMIUM, FLAGS, draw  # this folder's: the browser tests drive the page with it

from rnn_lightning.serving.local_server import running_server

PROJECT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ckpt_path", "--ckpt", type=Path, required=True)
    parser.add_argument("--row", type=int, default=18, help="the row under the pointer, 1 to 28")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as folder,
        running_server(args.ckpt_path.resolve(), Path(folder)) as (base, _),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for name, width, height in (("serve_page.png", 1280, 900), ("serve_page_phone.png", 390, 844)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("pageerror", lambda error: print(f"page error: {error}", file=sys.stderr))
            page.goto(f"{base}/")
            answer = draw(page)
            page.locator("#heat").scroll_into_view_if_needed()
            heat = page.locator("#heat").bounding_box()
            scale = heat["height"] / 306  # the canvas' own pixels to the page's (smaller on a phone)
            page.mouse.move(heat["x"] + 150 * scale, heat["y"] + (22 + 10 * (args.row - 1) + 5) * scale)
            page.wait_for_function(f"window.insidePanel && window.insidePanel.markedRow === {args.row - 1}")
            page.screenshot(path=str(args.out / name), full_page=True)
            panel = page.evaluate("window.insidePanel")
            print(
                f"{name}: {width} px, drew a 7, answer {answer['digit']} ({answer['probability']:.1%}), "
                f"pointer on row {args.row}, {panel['cell']} {panel['units']}, voters {panel['voters']}"
            )
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
