"""`serve` over real HTTP: every input form, the row-by-row reading, the same answer as `predict`, and
bad input answered 4xx while the server keeps serving."""

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import MNIST

from rnn_lightning.images import to_mnist_form
from tests.conftest import CONFIGS, make_fake_mnist, run_cli
from tests.serving import alive, request, running_server


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "rnnlightningboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small PNG whose header claims a huge image: decoding it would take gigabytes."""
    data = bytearray(png_bytes(np.zeros((8, 8), dtype=np.uint8)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


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


def test_every_input_form_the_same_answer_as_predict_and_bad_input_never_kills_it(
    trained_checkpoint, real_data_dir, test_images, tmp_path
):
    images, labels = test_images
    # a user's picture: dark ink on light paper, enlarged and off-centre
    page = np.full((120, 110), 255, dtype=np.uint8)
    page[10:94, 20:104] = 255 - np.asarray(Image.fromarray(images[1]).resize((84, 84)))
    picture = tmp_path / "digit.png"
    Image.fromarray(page).save(picture)
    predicted = run_cli(
        "predict", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(real_data_dir),
        "--ckpt_path", str(trained_checkpoint), "--data.predict_path", str(picture),
        "--trainer.enable_progress_bar", "false", cwd=tmp_path,
    )  # fmt: skip
    _, digit, probability = next(
        line for line in predicted.stdout.splitlines() if line.startswith(str(picture))
    ).split()

    with running_server(trained_checkpoint, tmp_path, "--max_upload_mb", "0.2") as (base, process):
        status, page_html = request(f"{base}/")
        assert (
            status == 200 and "<canvas" in page_html and "http" not in page_html.split("<script>")[0].lower()
        )

        status, answer = request(f"{base}/predict", json.dumps({"pixels": images[0].tolist()}).encode(),
                                 "application/json")  # fmt: skip
        assert status == 200, answer
        check_reading(answer)
        assert answer["input"] == images[0].tolist() and answer["digit"] == labels[0]

        data = picture.read_bytes()
        with Image.open(picture) as opened:
            expected_input = to_mnist_form(opened).tolist()
        for body, kind in (multipart("file", "digit.png", data), (data, "image/png"),
                           (data, "application/octet-stream")):  # fmt: skip
            status, answer = request(f"{base}/predict", body, kind)
            assert status == 200, answer
            check_reading(answer)
            assert answer["input"] == expected_input  # the same preprocessing as predict
            assert (answer["digit"], f"{answer['probability']:.4f}") == (int(digit), probability)

        bad = {
            "not an image": (b"this is not an image", "image/png", 400),
            "empty body": (b"", "application/json", 400),
            "broken JSON": (b'{"pixels": [1, 2', "application/json", 400),
            "JSON list": (b"[1, 2, 3]", "application/json", 400),
            "wrong shape": (json.dumps({"pixels": [[0] * 28] * 27}).encode(), "application/json", 400),
            "ragged rows": (
                json.dumps({"pixels": [[0] * 28] * 27 + [[0] * 5]}).encode(),
                "application/json",
                400,
            ),
            "out of range": (json.dumps({"pixels": [[300] * 28] * 28}).encode(), "application/json", 400),
            "strings": (json.dumps({"pixels": [["a"] * 28] * 28}).encode(), "application/json", 400),
            "no file field": (
                multipart("other", "x.png", data)[0],
                multipart("other", "x.png", data)[1],
                400,
            ),
            "bad base64": (json.dumps({"image": "%%%"}).encode(), "application/json", 400),
            "too large": (b"\x89PNG" + bytes(300_000), "image/png", 413),
            "decompression bomb": (bomb_png(), "image/png", 400),
            "100-megapixel header": (bomb_png(10_000, 10_000), "image/png", 400),  # PIL only warns there
        }
        for name, (body, kind, expected) in bad.items():
            status, answer = request(f"{base}/predict", body, kind)
            assert status == expected, (name, status, answer)
            assert isinstance(answer, dict) and set(answer) == {"error"}, (name, answer)
            assert "\n" not in answer["error"] and "Traceback" not in answer["error"], name
            status, _ = request(f"{base}/predict", json.dumps({"pixels": images[2].tolist()}).encode(),
                                "application/json")  # fmt: skip
            assert status == 200, f"the server stopped answering after {name}"
    assert process.returncode == 0
    time.sleep(1)
    assert not [pid for pid in process.children if alive(pid)], "processes left running after Ctrl-C"
    stderr = process.stderr.read()
    assert "Traceback" not in stderr, stderr[-2000:]


def fit_a_few_steps(folder: Path, *overrides: str) -> None:
    """A run of the default config for three steps on generated data: `last` in `folder` serves it."""
    data = make_fake_mnist(folder / "data")
    run_cli(
        "fit", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(data),
        "--trainer.max_steps", "3", "--trainer.limit_val_batches", "1",
        "--trainer.enable_progress_bar", "false", "--test_after_fit", "false", *overrides, cwd=folder,
    )  # fmt: skip


@pytest.mark.parametrize(("overrides", "has_reading"), [
    (["--data.sequence", "pixels", "--model.hidden_size", "16"], True),
    (["--data.sequence", "permuted", "--model.hidden_size", "16"], True),
    (["--model.bidirectional", "true", "--model.cell", "gru"], False),
])  # fmt: skip
def test_a_checkpoint_of_any_config_is_served(overrides, has_reading, tmp_path):
    fit_a_few_steps(tmp_path, *overrides)
    # `last` finds the newest run's checkpoint, as `fit --ckpt_path last` does; SIGTERM stops it as Ctrl-C
    with running_server("last", tmp_path, stop=signal.SIGTERM) as (base, process):
        pixels = torch.randint(0, 256, (28, 28)).tolist()
        body = json.dumps({"pixels": pixels}).encode()
        status, answer = request(f"{base}/predict", body, "application/json")
    assert status == 200, answer
    assert process.returncode == 0 and process.children  # LitServe's HTTP servers and model worker
    time.sleep(1)
    assert not [pid for pid in process.children if alive(pid)], "processes left running after SIGTERM"
    assert "Traceback" not in process.stderr.read()
    assert answer["input"] == pixels  # the image as drawn, whatever order the model reads it in
    if has_reading:
        check_reading(answer)
    else:
        assert answer["steps"] is None and "bidirectional" in answer["steps_note"]


def test_concurrent_requests_through_several_http_processes_and_workers_get_their_own_answers(tmp_path):
    fit_a_few_steps(tmp_path)
    images = [torch.randint(0, 256, (28, 28), generator=torch.Generator().manual_seed(i)).tolist()
              for i in range(96)]  # fmt: skip

    def ask(pixels):
        return request(f"{base}/predict", json.dumps({"pixels": pixels}).encode(), "application/json")

    with (
        running_server("last", tmp_path, "--api_servers", "2", "--workers", "2") as (base, process),
        ThreadPoolExecutor(max_workers=16) as pool,
    ):
        answers = list(pool.map(ask, images))
    assert [status for status, _ in answers] == [200] * len(images)
    assert [answer["input"] for _, answer in answers] == images  # each answer went to its own request
    assert process.returncode == 0


def test_with_litserves_api_key_only_keyed_requests_are_answered(tmp_path):
    fit_a_few_steps(tmp_path)
    body = json.dumps({"pixels": [[0] * 28] * 28}).encode()
    with running_server("last", tmp_path, env={**os.environ, "LIT_SERVER_API_KEY": "s3cret"}) as (base, _):
        status, answer = request(f"{base}/predict", body, "application/json")
        assert status == 401 and set(answer) == {"error"}
        wrong = request(f"{base}/predict", body, "application/json", headers={"X-API-Key": "guess"})
        assert wrong[0] == 401
        keyed = request(f"{base}/predict", body, "application/json", headers={"X-API-Key": "s3cret"})
        assert keyed[0] == 200 and "digit" in keyed[1]
        assert request(f"{base}/")[0] == 200  # the page itself is public; it sends the key from ?key=


@pytest.mark.parametrize("kind", ["missing", "not a checkpoint", "foreign"])
def test_a_bad_checkpoint_is_one_line_and_exit_status_2(kind, tmp_path):
    path = tmp_path / "model.ckpt"
    if kind == "not a checkpoint":
        path.write_text("hello")
    elif kind == "foreign":
        torch.save({"state_dict": {"layer.weight": torch.zeros(2)}, "hyper_parameters": {"lr": 1}}, path)
    command = [sys.executable, "-m", "rnn_lightning", "serve", "--ckpt_path", str(path), "--port", "1"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnn-lightning: error:") and str(path) in lines[0]
