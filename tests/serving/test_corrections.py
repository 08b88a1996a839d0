"""`serve --collect DIR`: the page's corrections saved as a labelled folder (`serving/corrections.py`). The
API in-process with FastAPI's TestClient; the page in Chromium (draw, correct, find the file); the saved
folder read back as `test --data.test_path` reads it."""

import io
import socket

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from rnn_lightning.data.image_files import to_mnist_form
from rnn_lightning.data.labelled_folder import read_labelled_folder
from rnn_lightning.model.classifier import SequenceClassifier
from rnn_lightning.serving.app import API_KEY_VARIABLE, create_app
from rnn_lightning.serving.local_server import request, running_server
from rnn_lightning.serving.settings import ServeSettings
from scripts.page_driver import canvas_png, draw, open_page
from tests.pictures import png_bytes

DIGITS = [str(digit) for digit in range(10)]
LIMIT = 50_000


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """An untrained model saved as Lightning saves one: saving a correction does not depend on weights."""
    torch.manual_seed(0)
    model = SequenceClassifier(hidden_size=8)
    path = tmp_path_factory.mktemp("model") / "model.ckpt"
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}, path)
    return path


def client(checkpoint, folder=None) -> TestClient:
    settings = ServeSettings(max_upload_bytes=LIMIT, collect=None if folder is None else str(folder))
    return TestClient(create_app(str(checkpoint), settings))


def digit_png(seed: int = 0) -> bytes:
    image = np.zeros((40, 30), dtype=np.uint8)
    image[8 + seed % 5 : 32, 12:18] = 255
    return png_bytes(image)


def files_in(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_without_collect_nothing_is_saved_and_get_says_so(checkpoint, tmp_path):
    with client(checkpoint) as app:
        assert app.get("/corrections").json() == {"collecting": False}
        answer = app.post("/corrections?label=3", content=digit_png(), headers={"Content-Type": "image/png"})
    assert answer.status_code == 404
    assert answer.json() == {"error": "corrections are not saved: start serve with --collect DIR"}


def test_each_correction_is_a_new_png_in_its_class_folder(checkpoint, tmp_path):
    folder = tmp_path / "mine"
    with client(checkpoint, folder) as app:
        assert app.get("/corrections").json() == {
            "collecting": True,
            "folder": str(folder),
            "counts": [0] * 10,
        }
        first = app.post("/corrections?label=3", content=digit_png(), headers={"Content-Type": "image/png"})
        again = app.post("/corrections?label=3", content=digit_png(), headers={"Content-Type": "image/png"})
        jpeg = io.BytesIO()
        Image.open(io.BytesIO(digit_png(1))).save(jpeg, "JPEG")
        other = app.post(
            "/corrections?label=7", content=jpeg.getvalue(), headers={"Content-Type": "image/jpeg"}
        )
        counts = app.get("/corrections").json()["counts"]
    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 201)
    assert first.json()["saved"] != again.json()["saved"]  # the same drawing twice: two files, none lost
    assert again.json()["counts"][3] == 2 and again.json()["label"] == 3
    assert counts == [0, 0, 0, 2, 0, 0, 0, 1, 0, 0]
    saved = files_in(folder)
    assert [p.parent.name for p in saved] == ["3", "3", "7"] and all(p.suffix == ".png" for p in saved)
    assert {p.read_bytes() for p in saved[:2]} == {digit_png()}  # the page's PNG as it came
    with Image.open(saved[2]) as reencoded:
        assert reencoded.format == "PNG"  # a JPEG re-encoded, so the folder is one format


def test_the_folder_reads_back_as_predict_reads_the_file(checkpoint, tmp_path):
    folder = tmp_path / "mine"
    with client(checkpoint, folder) as app:
        app.post("/corrections?label=4", content=digit_png(2), headers={"Content-Type": "image/png"})
        answered = app.post("/predict", content=digit_png(2), headers={"Content-Type": "image/png"}).json()
    data = read_labelled_folder(folder, DIGITS, "data.test_path")
    assert data.labels.tolist() == [4]
    assert data.images[0].tolist() == answered["input"]  # what the page was answered for is what tests read


@pytest.mark.parametrize(
    ("query", "body", "status", "says"),
    [
        ("", digit_png(), 400, "label must be a class of the model, 0 to 9, not none"),
        ("?label=ten", digit_png(), 400, "label must be a class of the model, 0 to 9, not 'ten'"),
        ("?label=10", digit_png(), 400, "label must be a class of the model, 0 to 9, not '10'"),
        ("?label=-1", digit_png(), 400, "label must be a class of the model, 0 to 9, not '-1'"),
        ("?label=2", b"", 400, "the image is empty (0 bytes)"),
        ("?label=2", b"not an image at all", 400, "not an image PIL can read"),
        ("?label=2", b"\0" * (LIMIT + 1), 413, "over the 50,000-byte limit"),
    ],
)
def test_a_bad_correction_is_one_line_and_writes_nothing(checkpoint, tmp_path, query, body, status, says):
    folder = tmp_path / "mine"
    with client(checkpoint, folder) as app:
        answer = app.post(f"/corrections{query}", content=body, headers={"Content-Type": "image/png"})
    assert answer.status_code == status
    message = answer.json()["error"]
    assert says in message and "\n" not in message
    assert not folder.exists()  # not even the folder


def test_behind_the_api_key(checkpoint, tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    monkeypatch.setenv(API_KEY_VARIABLE, "s3cret")
    with client(checkpoint, folder) as app:
        assert app.get("/corrections").status_code == 401
        refused = app.post("/corrections?label=1", content=digit_png(), headers={"Content-Type": "image/png"})
        assert refused.status_code == 401 and not folder.exists()
        keyed = {"Content-Type": "image/png", "X-API-Key": "s3cret"}
        assert app.post("/corrections?label=1", content=digit_png(), headers=keyed).status_code == 201
    assert [p.parent.name for p in files_in(folder)] == ["1"]


def test_the_schema_describes_corrections(checkpoint):
    with client(checkpoint) as app:
        paths = app.get("/openapi.json").json()["paths"]
    post = paths["/corrections"]["post"]
    assert {"201", "400", "401", "404", "413"} <= set(post["responses"])
    assert [p["name"] for p in post["parameters"]] == ["label"]
    assert "image/*" in post["requestBody"]["content"]
    assert "200" in paths["/corrections"]["get"]["responses"]


def test_collect_into_a_file_is_one_line_and_a_failed_serve_makes_no_folder(checkpoint, tmp_path, run_here):
    """Both stop before serving, so in this process."""
    (tmp_path / "notes.txt").write_text("mine")
    done = run_here(
        "serve", "--ckpt_path", str(checkpoint), "--collect", "notes.txt", cwd=tmp_path, check=False
    )
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].endswith(
        "--collect notes.txt: not a folder"
    )
    assert len(done.stderr.strip().splitlines()) == 1 and (tmp_path / "notes.txt").read_text() == "mine"
    busy = tmp_path / "busy"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        options = ["--ckpt_path", str(checkpoint), "--port", port, "--collect", str(busy)]
        done = run_here("serve", *options, cwd=tmp_path, check=False)
    assert done.returncode == 2 and "cannot listen" in done.stderr and not busy.exists()


def test_the_page_draws_is_corrected_and_the_file_is_there(browser, checkpoint, tmp_path):
    folder = tmp_path / "mine"
    with running_server(checkpoint, tmp_path, "--workers", "1", "--collect", str(folder)) as (base, process):
        page, errors = open_page(browser, base)
        page.wait_for_selector("#correct:not([hidden])")
        buttons = page.locator("#digits button")
        assert buttons.count() == 10 and all(
            buttons.nth(i).is_disabled() for i in range(10)
        )  # nothing to save
        shown = draw(page)
        wrong = (shown["digit"] + 1) % 10  # the label a person gives: any class but the answer
        page.locator(f"#digits button[data-label='{wrong}']").click()
        page.wait_for_function("document.getElementById('collected').textContent.startsWith('Saved')")
        said = page.locator("#collected").inner_text()
        count = page.locator(f"#digits button[data-label='{wrong}'] small").inner_text()
        assert page.locator("#digits button.chosen").get_attribute("data-label") == str(wrong)
        picture = canvas_png(page, tmp_path / "drawn.png")
        page.screenshot(path=str(tmp_path / "corrected.png"))
        page.click("#clear")  # nothing of that digit stays: its note, the saved line, the chosen button
        cleared = [page.locator(f"#{part}").inner_text() for part in ("answer", "note", "collected")]
        assert cleared == ["\u2013", "", ""] and page.locator("#digits button.chosen").count() == 0
        page.screenshot(path=str(tmp_path / "cleared.png"))
        draw(page, ((60, 200), (200, 210)))  # a new digit: a new answer, and the buttons are for it
        page.wait_for_function("!document.querySelector('#digits button[disabled]')")
        status, counted = request(f"{base}/corrections")
    assert said == f"Saved as {wrong}: the folder holds 1 of {wrong}, 1 in all." and count == "1"
    assert status == 200 and counted["counts"][wrong] == 1
    saved = files_in(folder)
    assert [p.parent.name for p in saved] == [str(wrong)]
    with Image.open(saved[0]) as kept, Image.open(picture) as drawn:
        assert to_mnist_form(kept).tolist() == to_mnist_form(drawn).tolist() == shown["input"]
    assert f"Saving the page's corrections in {folder}/<digit>/" in process.stderr.read()
    assert not errors, errors


def test_without_collect_the_page_shows_no_buttons(browser, checkpoint, tmp_path):
    with running_server(checkpoint, tmp_path, "--workers", "1") as (base, _):
        page, errors = open_page(browser, base)
        draw(page)
        page.wait_for_load_state("networkidle")
        assert page.locator("#correct").is_hidden()
    assert not errors, errors
