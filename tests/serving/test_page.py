"""The drawing page in a real browser: Debian's Chromium driven by Playwright (its own browser download
cannot work offline). In CI (CI=true) a missing browser fails the test instead of skipping it."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from torchvision.datasets import MNIST

from rnn_lightning.data.image_files import to_mnist_form
from rnn_lightning.serving.local_server import request, running_server
from scripts.page_driver import canvas_png, draw, open_page
from tests.conftest import CONFIGS, run_cli


@pytest.fixture(scope="module")
def served(trained_checkpoint, tmp_path_factory):
    """The base URL of `serve` on the trained checkpoint, for every test of this file."""
    with running_server(trained_checkpoint, tmp_path_factory.mktemp("page")) as (base, _):
        yield base


def test_a_drawing_gets_the_answer_predict_gives_its_png(
    browser, served, trained_checkpoint, real_data_dir, tmp_path
):
    page, errors = open_page(browser, served)
    assert page.locator("#answer").inner_text() == "–"
    shown = draw(page)
    picture = canvas_png(page, tmp_path / "drawn.png")
    with Image.open(picture) as opened:
        assert shown["input"] == to_mnist_form(opened).tolist()  # the server's preprocessing, not a copy
    predicted = run_cli(
        "predict", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(real_data_dir),
        "--ckpt_path", str(trained_checkpoint), "--data.predict_path", str(picture),
        "--trainer.enable_progress_bar", "false", cwd=tmp_path,
    )  # fmt: skip
    line = next(line for line in predicted.stdout.splitlines() if line.startswith(str(picture)))
    digit, probability = line.split()[1:]
    assert (shown["digit"], f"{shown['probability']:.4f}") == (int(digit), probability)
    assert page.locator("#answer").inner_text() == digit
    status, uploaded = request(f"{served}/predict", picture.read_bytes(), "image/png")  # the file path
    assert status == 200 and uploaded["input"] == shown["input"]
    assert np.allclose(uploaded["probabilities"], shown["probabilities"], atol=1e-6)
    seen = page.evaluate(  # the 28x28 view shows the answer's input: one pixel per 7x7 block
        """() => { const d = document.getElementById('seen').getContext('2d')
                       .getImageData(0, 0, 196, 196).data;
                   return Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 },
                       (_, x) => d[((y * 7 + 3) * 196 + x * 7 + 3) * 4])); }"""
    )
    assert seen == shown["input"]
    assert not errors, errors


def test_the_reading_then_a_picked_file_then_a_phone(browser, served, real_data_dir, tmp_path):
    digit = MNIST(str(real_data_dir), train=False).data[0].numpy()  # a 7
    picture = tmp_path / "seven.png"
    Image.fromarray(255 - np.asarray(Image.fromarray(digit).resize((112, 112)))).save(picture)
    page, errors = open_page(browser, served)
    draw(page)
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

    page.locator("#file").set_input_files(str(picture))
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Read.')")
    page.wait_for_function("document.getElementById('answer').textContent === '7'")
    page.locator("#heat").hover()
    assert page.locator("#rowinfo").inner_text().startswith("After row")

    phone, phone_errors = open_page(browser, served, 390, 844)
    assert phone.evaluate("document.scrollingElement.scrollWidth <= innerWidth")  # no sideways scrolling
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "clear"  # buttons are reachable by keyboard
    assert not errors + phone_errors, errors + phone_errors


def api_inside(base: str, picture: Path) -> dict:
    """`POST /predict?inside=true` of a PNG file: the answer the panel is compared with."""
    status, answer = request(f"{base}/predict?inside=true", picture.read_bytes(), "image/png")
    assert status == 200, answer
    return answer


def test_the_inside_panel_draws_what_the_api_answers_for_the_drawing(browser, served, tmp_path):
    page, errors = open_page(browser, served)
    assert page.evaluate("window.insidePanel") is None
    draw(page)
    panel = page.evaluate("window.insidePanel")
    answer = api_inside(served, canvas_png(page, tmp_path / "drawn.png"))
    found = answer["inside"]
    top = found["layers"][-1]
    contribution = np.asarray(found["contribution"])
    order = panel["order"]  # the units as drawn, left to right: by their vote, the strongest first
    assert (panel["cell"], panel["units"], sorted(order)) == ("lstm", 128, list(range(128)))
    np.testing.assert_allclose(panel["contribution"], contribution[order], atol=1e-6)
    assert np.all(np.diff(panel["contribution"]) <= 0)
    assert panel["voters"] == [
        unit for unit in np.argsort(-contribution)[:5].tolist() if contribution[unit] > 0
    ]
    assert panel["memoryOf"] == "cell_state"
    np.testing.assert_allclose(panel["memory"], np.asarray(top["cell_state"])[:, order], atol=1e-6)
    assert list(panel["gates"]) == ["input", "forget", "cell", "output"]
    for name, values in top["gates"].items():
        np.testing.assert_allclose(panel["gates"][name]["mean"], np.mean(values, 1), atol=1e-5)
        np.testing.assert_allclose(panel["gates"][name]["std"], np.std(values, 1), atol=1e-5)
    # the first voter's column: red where its memory is above zero, blue below, row by row
    colours = page.evaluate(
        """() => { const c = document.getElementById('memory').getContext('2d');
                   return Array.from({ length: 28 }, (_, row) =>
                       Array.from(c.getImageData(54, 22 + row * 10 + 5, 1, 1).data.slice(0, 3))); }"""
    )
    for row, (red, _, blue) in enumerate(colours):
        value = panel["memory"][row][0]
        if abs(value) > 0.05 * panel["colourLimit"]:
            assert (red > blue) == (value > 0), (row, value, red, blue)
    voters = ", ".join(str(unit) for unit in panel["voters"])
    assert f"Framed: units {voters}" in page.locator("#votesays").inner_text()
    assert "cell state" in page.locator("#memorysays").inner_text()

    box = page.locator("#memory").bounding_box()  # the pointer on row 10 of the memory: marked everywhere
    page.mouse.move(box["x"] + 60 * box["width"] / 400, box["y"] + (22 + 9 * 10 + 5) * box["height"] / 348)
    page.wait_for_function("window.insidePanel.markedRow === 9")
    assert page.locator("#rowinfo").inner_text().startswith("After row 10:")  # the reading's row
    info = page.locator("#insideinfo").inner_text()
    assert f"forget {np.mean(top['gates']['forget'][9]):.2f}" in info
    assert f"Unit {panel['order'][0]}:" in info or f"Unit {panel['order'][1]}:" in info

    phone, phone_errors = open_page(browser, served, 390, 844)
    draw(phone)
    assert phone.evaluate("window.insidePanel.units") == 128
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    for picture in ("#memory", "#gates", "#heat"):
        drawn = phone.locator(picture).bounding_box()
        assert drawn["x"] >= 0 and drawn["x"] + drawn["width"] <= 390, picture
    assert not errors + phone_errors, errors + phone_errors


def saved_checkpoint(folder: Path, **hparams) -> Path:
    """An untrained model saved as Lightning saves one: enough for the page to show its inside."""
    import torch

    from rnn_lightning.model.classifier import SequenceClassifier

    model = SequenceClassifier(hidden_size=8, **hparams)
    path = folder / "model.ckpt"
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    torch.save({**checkpoint, "MNISTDataModule": {"sequence": "rows", "permutation": None}}, path)
    return path


@pytest.mark.parametrize(
    ("hparams", "title"),
    [
        ({"cell": "gru", "num_layers": 2}, "Inside the GRU"),
        pytest.param({"cell": "rnn"}, "Inside the RNN", marks=pytest.mark.slow),
        pytest.param({"bidirectional": True}, "Inside the LSTM", marks=pytest.mark.slow),
    ],
)
def test_gru_rnn_and_bidirectional_checkpoints_get_their_own_panel(browser, tmp_path, hparams, title):
    checkpoint = saved_checkpoint(tmp_path, **hparams)
    with running_server(checkpoint, tmp_path, "--workers", "1") as (base, _):
        page, errors = open_page(browser, base)
        draw(page)
        panel = page.evaluate("window.insidePanel")
        assert page.locator("#insidetitle").inner_text().lower().startswith(title.lower())
        if hparams.get("bidirectional"):
            assert page.locator("#insidebody").is_hidden()
            assert "bidirectional" in page.locator("#insidenote").inner_text()
            assert set(panel) == {"note", "markedRow"}
            return
        found = api_inside(base, canvas_png(page, tmp_path / "drawn.png"))["inside"]
    top = found["layers"][-1]
    assert (
        panel["memoryOf"] == "hidden" and "keeps no other memory" in page.locator("#memorysays").inner_text()
    )
    np.testing.assert_allclose(panel["memory"], np.asarray(top["hidden"])[:, panel["order"]], atol=1e-6)
    assert list(panel["gates"]) == list(top["gates"])
    if hparams["cell"] == "gru":
        assert list(panel["gates"]) == ["reset", "update", "new"]
        assert "in the top one of its 2 layers" in page.locator("#memorysays").inner_text()
        np.testing.assert_allclose(
            panel["gates"]["update"]["mean"], np.mean(top["gates"]["update"], 1), atol=1e-5
        )
    else:
        assert page.locator("#gates").is_hidden()
        assert "has no gates" in page.locator("#gatessays").inner_text()
    assert not errors, errors
