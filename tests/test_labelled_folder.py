"""Your own digits as data: `predict` and `test` on files need no MNIST, a labelled folder is a data set
(`DIR/<class>/*.png`) for `test`, `validate` and `fit`, and each way such a folder can be wrong is a line."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import FEW_STEPS, fit_args, make_fake_mnist, run_cli


def bar_digit(label: int, rng: np.random.Generator, size: int = 56) -> Image.Image:
    """The fake MNIST's kind of digit as a user's file: a bright bar at the class's row, larger."""
    page = rng.integers(0, 40, size=(28, 28)).astype(np.uint8)
    page[2 + 2 * label : 4 + 2 * label, 4:24] = 255
    return Image.fromarray(page).resize((size, size), Image.NEAREST)


def labelled_folder(root: Path, per_class: int = 3, classes=range(10), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for label in classes:
        (root / str(label)).mkdir(parents=True)
        for index in range(per_class):
            bar_digit(label, rng).save(root / str(label) / f"{index}.png")
    return root


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory) -> Path:
    """A few steps of the default config on fake MNIST: a checkpoint to read files with."""
    workdir = tmp_path_factory.mktemp("small")
    data = make_fake_mnist(workdir / "data")
    run_cli(*fit_args(data, *FEW_STEPS), cwd=workdir)
    return workdir / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"


def test_predict_on_files_needs_no_mnist(small_checkpoint, tmp_path):
    """Neither --config nor MNIST: the checkpoint and the files are enough, and nothing is downloaded."""
    images = tmp_path / "mine"
    images.mkdir()
    rng = np.random.default_rng(1)
    for index in range(3):
        bar_digit(index, rng).save(images / f"{index}.png")
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["predict", "--ckpt_path", str(small_checkpoint), "--data.predict_path", str(images / "*.png")]
    result = run_cli(*args, "--data.data_dir", str(empty), cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [str(images / f"{index}.png") for index in range(3)]
    assert list(empty.iterdir()) == []
    # and the same with the run's config, which names a data_dir of its own
    config = small_checkpoint.parents[1] / "config.yaml"
    result = run_cli(
        "predict", "--config", str(config), *args[1:], "--data.data_dir", str(empty), cwd=tmp_path
    )
    assert len(result.stdout.splitlines()) == 3 and list(empty.iterdir()) == []


def test_predict_without_config_reads_as_the_checkpoint_was_trained(tmp_path):
    """A `pixels` model: LightningCLI adopts the model's hyper-parameters from the checkpoint, the data's
    way of reading (sequence) is adopted too, so the input sizes agree without --config."""
    data = make_fake_mnist(tmp_path / "data")
    run_cli(*fit_args(data, *FEW_STEPS, "--data.sequence", "pixels"), cwd=tmp_path)
    checkpoint = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    bar_digit(3, np.random.default_rng(0)).save(tmp_path / "three.png")
    image, nowhere = str(tmp_path / "three.png"), str(tmp_path / "nowhere")
    args = ["--ckpt_path", str(checkpoint), "--data.predict_path", image, "--data.data_dir", nowhere]
    result = run_cli("predict", *args, cwd=tmp_path)
    assert result.stdout.split()[0] == str(tmp_path / "three.png")
    assert not (tmp_path / "nowhere").exists()
