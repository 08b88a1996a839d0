"""Commands the README and the docs it links to show, run as shown."""

import json
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from torchvision.datasets import MNIST

from rnn_lightning.serving.app import create_app

SERVING = (Path(__file__).parents[2] / "docs" / "serving.md").read_text()  # the HTTP API, from the README


def test_the_digit_json_command_makes_what_predict_takes(real_data_dir, trained_checkpoint, tmp_path):
    (command,) = re.findall(r"^(python -c .*) > digit\.json$", SERVING, flags=re.MULTILINE)
    (tmp_path / "data").symlink_to(real_data_dir)  # where the README's first fit downloads MNIST
    python_code = command.removeprefix("python -c ").strip('"')
    made = subprocess.run(
        [sys.executable, "-c", python_code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    pixels = json.loads(made.stdout)["pixels"]
    image, label = MNIST(str(real_data_dir), train=False)[0]
    assert pixels == [[image.getpixel((x, y)) for x in range(28)] for y in range(28)] and label == 7
    with TestClient(create_app(str(trained_checkpoint))) as client:
        answer = client.post("/predict", content=made.stdout, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json()["digit"] == 7
