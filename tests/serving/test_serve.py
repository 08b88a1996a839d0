"""`serve` over real HTTP: every input form, the row-by-row reading, the same answer as `predict`, workers,
ports, keys, and every process stopped by Ctrl-C or SIGTERM; what the app decides alone (bad input a
one-line 4xx, a failing model a 500 logged on the server) in-process with FastAPI's TestClient."""

import json
import logging
import logging.config
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
import uvicorn.config
from fastapi.testclient import TestClient
from PIL import Image
from torchvision.datasets import MNIST

from rnn_lightning.data.image_files import to_mnist_form
from rnn_lightning.model.reading import DigitReader
from rnn_lightning.serving.app import create_app
from rnn_lightning.serving.local_server import alive, request, running_server
from rnn_lightning.serving.settings import ServeSettings
from tests.conftest import CONFIGS, FEW_STEPS, fit_args, fit_in, make_fake_mnist, run_cli
from tests.pictures import TRANSPARENT_KINDS, bomb_png, opaque_twin, png_bytes, transparent

JSON = "application/json"


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "rnnlightningboundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
    body = (head + "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def pixels_body(pixels) -> bytes:
    return json.dumps({"pixels": pixels.tolist() if hasattr(pixels, "tolist") else pixels}).encode()


def check_reading(answer: dict) -> None:
    assert set(answer) >= {"digit", "probability", "probabilities", "input", "steps"}
    assert len(answer["probabilities"]) == 10 and sum(answer["probabilities"]) == pytest.approx(1, abs=1e-5)
    assert answer["digit"] == int(np.argmax(answer["probabilities"]))
    assert answer["probability"] == max(answer["probabilities"])
    assert np.asarray(answer["input"]).shape == (28, 28)
    steps = np.asarray(answer["steps"])
    assert steps.shape == (28, 10)
    assert np.allclose(steps.sum(1), 1, atol=1e-4)
    assert np.allclose(steps[-1], answer["probabilities"], atol=1e-4)  # the last row read is the answer


@pytest.fixture(scope="module")
def test_images(real_data_dir):
    test = MNIST(str(real_data_dir), train=False)
    return test.data[:3].numpy(), test.targets[:3].tolist()


@pytest.fixture(scope="module")
def server(trained_checkpoint, tmp_path_factory):
    """One server of the trained checkpoint for the module's tests, with a 0.2 MB upload limit."""
    with running_server(trained_checkpoint, tmp_path_factory.mktemp("serve"), "--max_upload_mb", "0.2") as (
        base,
        process,
    ):
        yield base
    assert process.returncode == 0 and "Traceback" not in process.stderr.read()


@pytest.fixture(scope="module")
def user_picture(test_images, trained_checkpoint, real_data_dir, tmp_path_factory):
    """A user's picture (dark ink on light paper, enlarged, off-centre) and what `predict` says of it."""
    folder = tmp_path_factory.mktemp("picture")
    page = np.full((120, 110), 255, dtype=np.uint8)
    page[10:94, 20:104] = 255 - np.asarray(Image.fromarray(test_images[0][1]).resize((84, 84)))
    picture = folder / "digit.png"
    Image.fromarray(page).save(picture)
    predicted = run_cli(
        "predict", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(real_data_dir),
        "--ckpt_path", str(trained_checkpoint), "--data.predict_path", str(picture),
        "--trainer.enable_progress_bar", "false", cwd=folder,
    )  # fmt: skip
    line = next(line for line in predicted.stdout.splitlines() if line.startswith(str(picture)))
    return picture, line.split()[1:]


def test_the_page_is_served_whole_and_health_answers(server):
    status, page = request(f"{server}/")
    assert status == 200 and "<canvas" in page and "http" not in page.split("<script>")[0].lower()
    assert request(f"{server}/health") == (200, "ok")


def test_pixels_as_json_give_the_digit_and_its_reading(server, test_images):
    images, labels = test_images
    status, answer = request(f"{server}/predict", pixels_body(images[0]), JSON)
    assert status == 200, answer
    check_reading(answer)
    assert answer["input"] == images[0].tolist() and answer["digit"] == labels[0]


@pytest.mark.parametrize("form", ["multipart", "image/png", "application/octet-stream"])
def test_an_image_file_gets_the_same_answer_as_predict(server, user_picture, form):
    picture, (digit, probability) = user_picture
    data = picture.read_bytes()
    body, kind = multipart("file", "digit.png", data) if form == "multipart" else (data, form)
    status, answer = request(f"{server}/predict", body, kind)
    assert status == 200, answer
    check_reading(answer)
    with Image.open(picture) as opened:
        assert answer["input"] == to_mnist_form(opened).tolist()  # the same preprocessing as predict
    assert (answer["digit"], f"{answer['probability']:.4f}") == (int(digit), probability)


@pytest.mark.parametrize("kind", TRANSPARENT_KINDS)
def test_black_ink_on_transparency_reads_as_its_opaque_twin(server, test_images, kind):
    digit = test_images[0][2]
    status, answer = request(f"{server}/predict", png_bytes(transparent(digit, kind)), "image/png")
    assert status == 200, answer
    twin = request(f"{server}/predict", png_bytes(opaque_twin(digit, kind)), "image/png")[1]
    assert answer["input"] == twin["input"] and answer["digit"] == twin["digit"]
    assert np.asarray(answer["input"]).sum() > 0


BAD_INPUTS = {
    "not an image": (b"this is not an image", "image/png", 400),
    "empty body": (b"", JSON, 400),
    "broken JSON": (b'{"pixels": [1, 2', JSON, 400),
    "JSON list": (b"[1, 2, 3]", JSON, 400),
    "wrong shape": (pixels_body([[0] * 28] * 27), JSON, 400),
    "ragged rows": (pixels_body([[0] * 28] * 27 + [[0] * 5]), JSON, 400),
    "out of range": (pixels_body([[300] * 28] * 28), JSON, 400),
    "strings": (pixels_body([["a"] * 28] * 28), JSON, 400),
    "no file field": (*multipart("other", "x.png", png_bytes(np.zeros((8, 8), np.uint8))), 400),
    "broken multipart": (b"--x\r\nnonsense", "multipart/form-data; boundary=x", 400),
    "too large": (b"\x89PNG" + bytes(300_000), "image/png", 413),
    "decompression bomb": (bomb_png(), "image/png", 400),
    "100-megapixel header": (bomb_png(10_000, 10_000), "image/png", 400),  # PIL only warns there
}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    """The app in this process (FastAPI's TestClient runs its lifespan, which loads the model): what the
    app decides alone needs no server. An untrained default model, with a 0.2 MB upload limit."""
    from rnn_lightning.model.classifier import SequenceClassifier

    path = tmp_path_factory.mktemp("app") / "model.ckpt"
    model = SequenceClassifier()
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}, path)
    with TestClient(create_app(str(path), ServeSettings(max_upload_bytes=int(0.2 * 2**20)))) as client:
        yield client


def posted(client, body: bytes, kind: str):
    response = client.post("/predict", content=body, headers={"Content-Type": kind})
    return response.status_code, response.json()


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_is_one_line_4xx_and_the_app_keeps_serving(app_client, name):
    body, kind, expected = BAD_INPUTS[name]
    status, answer = posted(app_client, body, kind)
    assert status == expected, (status, answer)
    assert isinstance(answer, dict) and set(answer) == {"error"}, answer
    assert "\n" not in answer["error"] and "Traceback" not in answer["error"]
    assert posted(app_client, pixels_body([[0] * 28] * 28), JSON)[0] == 200


def test_the_favicon_a_browser_asks_for_is_no_404(app_client):
    response = app_client.get("/favicon.ico")
    assert response.status_code == 204 and response.content == b""  # no icon, and no console error


def test_an_unknown_address_is_a_json_404(app_client):
    response = app_client.get("/nothing")
    assert (response.status_code, response.json()) == (404, {"error": "Not Found"})


def test_a_failing_model_is_a_one_line_500_and_its_traceback_on_the_servers_stderr(
    app_client, monkeypatch, capsys
):
    """The server's stderr as uvicorn sets it up in every worker (its LOGGING_CONFIG, `uvicorn.error`
    at `serve`'s level); the client gets one line, the server's log the whole traceback."""
    logger, saved = logging.getLogger("uvicorn.error"), {}
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        saved[name] = (logging.getLogger(name).handlers[:], logging.getLogger(name).level)
    try:
        logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)  # its handlers: this test's stderr
        logger.setLevel(logging.WARNING)  # `serve` runs uvicorn with log_level="warning"

        def broken(self, images, inside=False):
            raise RuntimeError("cuDNN error: the kernel failed\nsecond line")

        monkeypatch.setattr(DigitReader, "read", broken)
        status, answer = posted(app_client, pixels_body([[0] * 28] * 28), JSON)
    finally:
        for name, (handlers, level) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).setLevel(level)
    assert status == 500
    assert answer == {"error": "the model failed on this image: cuDNN error: the kernel failed"}
    err = capsys.readouterr().err
    assert "POST /predict answered 500" in err and "Traceback (most recent call last)" in err
    assert "in broken" in err and "second line" in err


def fit_a_few_steps(folder: Path, *overrides: str) -> None:
    """A run of the default config for three steps on generated data: `last` in `folder` serves it."""
    fit_in(folder, *fit_args(make_fake_mnist(folder / "data"), *FEW_STEPS, *overrides))


def assert_stopped_cleanly(process) -> None:
    assert process.returncode == 0
    deadline = time.monotonic() + 10
    while [pid for pid in process.children if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in process.children if alive(pid)], "processes left running"
    assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize(("overrides", "has_reading"), [
    (["--data.sequence", "pixels", "--model.hidden_size", "16"], True),
    pytest.param(["--data.sequence", "permuted", "--model.hidden_size", "16"], True, marks=pytest.mark.slow),
    (["--model.bidirectional", "true", "--model.cell", "gru"], False),
])  # fmt: skip
def test_a_checkpoint_of_any_config_is_served_and_sigterm_stops_it(overrides, has_reading, tmp_path):
    fit_a_few_steps(tmp_path, *overrides)
    # `last` finds the newest run's checkpoint, as `fit --ckpt_path last` does
    with running_server("last", tmp_path, stop=signal.SIGTERM) as (base, process):
        pixels = torch.randint(0, 256, (28, 28)).tolist()
        status, answer = request(f"{base}/predict", pixels_body(pixels), JSON)
    assert status == 200, answer
    assert_stopped_cleanly(process)
    assert answer["input"] == pixels  # the image as drawn, whatever order the model reads it in
    if has_reading:
        check_reading(answer)
    else:
        assert answer["steps"] is None and "bidirectional" in answer["steps_note"]


@pytest.mark.parametrize("workers", ["1", pytest.param("3", marks=pytest.mark.slow)])  # 3: four processes
def test_concurrent_requests_get_their_own_answers_and_ctrl_c_stops_every_worker(workers, tmp_path):
    fit_a_few_steps(tmp_path)
    images = [torch.randint(0, 256, (28, 28), generator=torch.Generator().manual_seed(i)).tolist()
              for i in range(96)]  # fmt: skip
    with (
        running_server("last", tmp_path, "--workers", workers, "--max_batch_size", "8") as (base, process),
        ThreadPoolExecutor(max_workers=16) as pool,
    ):
        answers = list(pool.map(lambda pixels: request(f"{base}/predict", pixels_body(pixels), JSON), images))
    assert [status for status, _ in answers] == [200] * len(images)
    assert [answer["input"] for _, answer in answers] == images  # each answer went to its own request
    assert_stopped_cleanly(process)


def test_with_an_api_key_only_keyed_requests_are_answered(tmp_path):
    fit_a_few_steps(tmp_path)
    body = pixels_body([[0] * 28] * 28)
    with running_server("last", tmp_path, env={**os.environ, "RNN_LIGHTNING_API_KEY": "s3cret"}) as (base, _):
        status, answer = request(f"{base}/predict", body, JSON)
        assert status == 401 and set(answer) == {"error"}
        assert request(f"{base}/predict", body, JSON, headers={"X-API-Key": "guess"})[0] == 401
        assert request(f"{base}/health")[0] == 401
        keyed = request(f"{base}/predict", body, JSON, headers={"X-API-Key": "s3cret"})
        assert keyed[0] == 200 and "digit" in keyed[1]
        assert request(f"{base}/")[0] == 200  # the page itself is public; it sends the key from ?key=


def serve_fails(run_here, tmp_path, *options: str) -> str:
    """Runs `serve` (in this process: it stops before it listens) expecting one line on stderr and exit
    status 2; returns that line."""
    result = run_here("serve", *options, cwd=tmp_path, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m rnn_lightning: error:"), lines
    return lines[0]


@pytest.mark.parametrize("kind", ["missing", "not a checkpoint", "foreign"])
def test_a_bad_checkpoint_is_one_line_and_exit_status_2(kind, tmp_path, run_here):
    path = tmp_path / "model.ckpt"
    if kind == "not a checkpoint":
        path.write_text("hello")
    elif kind == "foreign":
        torch.save({"state_dict": {"layer.weight": torch.zeros(2)}, "hyper_parameters": {"lr": 1}}, path)
    assert str(path) in serve_fails(run_here, tmp_path, "--ckpt_path", str(path))


def test_a_port_out_of_range_is_one_line_and_exit_status_2(tmp_path, run_here):
    fit_a_few_steps(tmp_path)
    for port in ("-1", "99999"):  # socket's OverflowError before
        line = serve_fails(run_here, tmp_path, "--ckpt_path", "last", "--port", port)
        assert f"--port {port}" in line and "1 to 65535" in line
    # 0 listened on a free port that the printed address did not name: a process of its own, one worker
    # (no children), so that a server started by mistake is killed at the timeout
    result = run_cli("serve", "--ckpt_path", "last", "--port", "0", "--workers", "1", cwd=tmp_path,
                     check=False, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "--port 0" in result.stderr and "1 to 65535" in result.stderr


def test_a_busy_port_and_the_old_key_variable_are_one_line_and_exit_status_2(tmp_path, run_here, monkeypatch):
    fit_a_few_steps(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert f"127.0.0.1:{port}" in serve_fails(run_here, tmp_path, "--ckpt_path", "last", "--port", port)
    monkeypatch.setenv("LIT_SERVER_API_KEY", "s3cret")  # LitServe's, no longer read: refused, not ignored
    assert "RNN_LIGHTNING_API_KEY" in serve_fails(run_here, tmp_path, "--ckpt_path", "last")
