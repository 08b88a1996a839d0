"""Your own digits as data: `predict` and `test` on files need no MNIST, a labelled folder is a data set
(`DIR/<class>/*.png`) for `test`, `validate` and `fit`, and each way such a folder can be wrong is a line."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import FEW_STEPS, fit_args, fit_in, make_fake_mnist


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
    fit_in(workdir, *fit_args(data, *FEW_STEPS))
    return workdir / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"


def test_predict_on_files_needs_no_mnist(small_checkpoint, tmp_path, run_here):
    """Neither --config nor MNIST: the checkpoint and the files are enough, and nothing is downloaded."""
    images = tmp_path / "mine"
    images.mkdir()
    rng = np.random.default_rng(1)
    for index in range(3):
        bar_digit(index, rng).save(images / f"{index}.png")
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["predict", "--ckpt_path", str(small_checkpoint), "--data.predict_path", str(images / "*.png")]
    result = run_here(*args, "--data.data_dir", str(empty), cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [str(images / f"{index}.png") for index in range(3)]
    assert list(empty.iterdir()) == []
    # and the same with the run's config, which names a data_dir of its own
    config = small_checkpoint.parents[1] / "config.yaml"
    result = run_here(
        "predict", "--config", str(config), *args[1:], "--data.data_dir", str(empty), cwd=tmp_path
    )
    assert len(result.stdout.splitlines()) == 3 and list(empty.iterdir()) == []


def test_predict_without_config_reads_as_the_checkpoint_was_trained(tmp_path, run_here):
    """A `pixels` model: LightningCLI adopts the model's hyper-parameters from the checkpoint, the data's
    way of reading (sequence) is adopted too, so the input sizes agree without --config."""
    data = make_fake_mnist(tmp_path / "data")
    fit_in(tmp_path, *fit_args(data, *FEW_STEPS, "--data.sequence", "pixels", "--model.hidden_size", "8"))
    checkpoint = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    bar_digit(3, np.random.default_rng(0)).save(tmp_path / "three.png")
    image, nowhere = str(tmp_path / "three.png"), str(tmp_path / "nowhere")
    args = ["--ckpt_path", str(checkpoint), "--data.predict_path", image, "--data.data_dir", nowhere]
    result = run_here("predict", *args, cwd=tmp_path)
    assert result.stdout.split()[0] == str(tmp_path / "three.png")
    assert not (tmp_path / "nowhere").exists()


def test_test_measures_a_checkpoint_on_a_folder_without_mnist(small_checkpoint, tmp_path, run_here):
    folder = labelled_folder(tmp_path / "mine", per_class=2)
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["test", "--ckpt_path", str(small_checkpoint), "--data.test_path", str(folder)]
    run_here(*args, "--data.data_dir", str(empty), cwd=tmp_path)
    run = tmp_path / "lightning_logs" / "version_0"
    support = [line.split(",")[-1] for line in (run / "per_class.csv").read_text().splitlines()[1:]]
    assert support == ["2"] * 10  # the folder's 20 images, two of each digit, not MNIST's
    assert (run / "confusion_matrix.png").is_file() and (run / "errors.png").is_file()
    assert list(empty.iterdir()) == []


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda root: (root / "3").mkdir(parents=True), "holds no images"),
        (lambda root: labelled_folder(root, classes=[1, 12]), "is not a class of the model"),
        (lambda root: (labelled_folder(root) / "4" / "bad.png").write_text("not a png"), "cannot read"),
        (
            lambda root: bar_digit(1, np.random.default_rng(0)).save(labelled_folder(root) / "x.png"),
            "class folder",
        ),
    ],
    ids=["empty", "not_a_class", "unreadable", "outside_class_folders"],
)
def test_a_wrong_folder_is_one_line(make, says, tmp_path):
    from rnn_lightning.data.labelled_folder import read_labelled_folder
    from rnn_lightning.errors import UserInputError

    make(tmp_path / "folder")
    with pytest.raises(UserInputError, match=says) as raised:
        read_labelled_folder(tmp_path / "folder", [str(digit) for digit in range(10)], "data.test_path")
    assert "\n" not in str(raised.value)


def test_a_wrong_folder_exits_2_with_one_line_and_leaves_no_run_folder(small_checkpoint, tmp_path, run_here):
    labelled_folder(tmp_path / "mine", classes=[1, 12])
    args = ["validate", "--ckpt_path", str(small_checkpoint), "--data.val_path", str(tmp_path / "mine")]
    result = run_here(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("12 is not a class of the model (classes 0, 1, 2, "
                                                           "3, 4, 5, 6, 7, 8, 9)")  # fmt: skip
    assert result.stdout == ""
    (tmp_path / "empty").mkdir()
    args = ["test", "--ckpt_path", str(small_checkpoint), "--data.test_path", str(tmp_path / "empty")]
    result = run_here(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2 and "holds no images" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "mine"]  # no lightning_logs/ husk


def test_the_folder_is_mixed_in_at_its_share_and_held_out_by_class():
    import torch

    from rnn_lightning.data.labelled_folder import LabelledImages, hold_out, mixed_in

    labels = torch.arange(10).repeat_interleave(5)
    folder = LabelledImages(
        torch.full((50, 28, 28), 7, dtype=torch.uint8), labels, [f"{i}" for i in range(50)]
    )
    training, held = hold_out(folder, 0.2)
    assert len(held) == 10 and sorted(held.labels.tolist()) == list(range(10))
    assert not set(training.paths) & set(held.paths)
    assert hold_out(folder, 0.2)[1].paths == held.paths  # the same split every time
    mnist = torch.zeros(900, 28, 28, dtype=torch.uint8), torch.zeros(900, dtype=torch.int64)
    images, mixed_labels = mixed_in(*mnist, training, share=0.25)
    from_folder = (images == 7).all((1, 2))
    assert from_folder.float().mean().item() == pytest.approx(0.25, abs=0.002)
    # 300 of 1,200 samples from 40 images: each image 7 or 8 times, so each class (4 images) 28 to 32
    counts = mixed_labels[from_folder].bincount()
    assert counts.sum() == 300 and counts.min() >= 28 and counts.max() <= 32, counts


def test_fit_mixes_a_folder_in_and_tests_on_its_held_out_part(tmp_path, run_here):
    data = make_fake_mnist(tmp_path / "data")
    folder = labelled_folder(tmp_path / "mine", per_class=5)
    args = fit_args(data, *FEW_STEPS, "--data.train_folder", str(folder), "--data.folder_holdout", "0.4")
    result = run_here(*args, "--test_after_fit", "true", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[-3].endswith("(200 test images)")
    assert lines[-1].startswith("Testing Accuracy: ") and lines[-1].endswith(f"(folder {folder}, 20 images)")
    assert "Training on 30 images of" in result.stderr
    report = tmp_path / "lightning_logs" / "version_0" / "folder_test" / "per_class.csv"
    assert [line.split(",")[-1] for line in report.read_text().splitlines()[1:]] == ["2"] * 10
