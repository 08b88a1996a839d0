"""`predict` on the user's own images: MNIST's form from any image, lines in order, unreadable files named."""

import csv

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import MNIST

from rnn_lightning.data.image_files import find_images, image_from_bytes, to_mnist_form
from rnn_lightning.errors import UserInputError
from tests.conftest import CONFIGS, run_cli
from tests.pictures import TRANSPARENT_KINDS, bomb_png, opaque_twin, transparent

FORMS = ("light_on_dark_png", "dark_on_light_png", "rgb_png", "dark_on_light_jpeg")


def save_as_photo(digit: np.ndarray, path_stem, form: str, rng: np.random.Generator):
    """An MNIST digit as a user's picture: enlarged 4x onto a bigger page, off-centre, in one form."""
    page = np.zeros((150, 145), dtype=np.uint8)
    top, left = rng.integers(5, 30), rng.integers(5, 30)
    big = np.asarray(Image.fromarray(digit).resize((112, 112), Image.BILINEAR))
    page[top : top + 112, left : left + 112] = big
    if form.startswith("dark_on_light"):
        page = 255 - page
    image = Image.fromarray(page)
    if form == "rgb_png":
        image = Image.merge("RGB", (image, image, image))
    suffix = ".jpg" if form.endswith("jpeg") else ".png"
    path = path_stem.with_name(f"{path_stem.name}_{form}{suffix}")
    image.save(path, quality=90) if suffix == ".jpg" else image.save(path)
    return path


def predict_args(data_dir, checkpoint) -> list[str]:
    """`predict` with the default config, real MNIST and a trained checkpoint."""
    config, data, ckpt = str(CONFIGS / "default.yaml"), str(data_dir), str(checkpoint)
    return ["predict", "--config", config, "--data.data_dir", data, "--ckpt_path", ckpt]


@pytest.fixture(scope="module")
def test_digits(real_data_dir):
    test = MNIST(str(real_data_dir), train=False)
    return test.data[:12], test.targets[:12]


@pytest.mark.parametrize("form", FORMS)
def test_pictures_return_to_mnist_form(test_digits, tmp_path, form):
    images, _ = test_digits
    rng = np.random.default_rng(0)
    differences = []
    for index, digit in enumerate(images):
        path = save_as_photo(digit.numpy(), tmp_path / f"digit{index}", form, rng)
        with Image.open(path) as picture:
            converted = to_mnist_form(picture)
        assert converted.shape == (28, 28) and converted.dtype == torch.uint8
        differences.append((converted.float() - digit.float()).abs().mean().item())
    # the same digit again, up to resampling: a small fraction of the 0-255 range on average
    assert np.mean(differences) < 20, differences


def test_mnist_digits_keep_their_centre_of_mass(real_data_dir):
    """MNIST's own images, read again as files are, stay where MNIST centred them."""
    images = MNIST(str(real_data_dir), train=False).data[:300]
    grid = torch.arange(28, dtype=torch.float64)

    def centres(batch: torch.Tensor) -> torch.Tensor:
        mass = batch.double()
        total = mass.sum((1, 2))
        return torch.stack([(mass.sum(2) * grid).sum(1) / total, (mass.sum(1) * grid).sum(1) / total], 1)

    converted = torch.stack([to_mnist_form(Image.fromarray(image.numpy())) for image in images])
    moved = (centres(converted) - centres(images)).abs()
    assert moved.mean() < 0.2, moved.mean(0)  # resampling aside, no shift of a pixel
    assert (moved < 0.5).float().mean() > 0.9


@pytest.mark.parametrize("side", [10_000, 30_000])  # PIL warns at 100 megapixels, raises at 900
def test_an_absurdly_large_image_is_refused_before_decoding(side):
    with pytest.raises(UserInputError, match="pixels allowed"):
        image_from_bytes(bomb_png(side, side))


@pytest.mark.parametrize("kind", TRANSPARENT_KINDS)
def test_black_ink_on_a_transparent_background_is_read_as_the_digit(test_digits, kind):
    for digit in test_digits[0][:4].numpy():
        seen = to_mnist_form(Image.fromarray(opaque_twin(digit, kind)))
        assert torch.equal(to_mnist_form(transparent(digit, kind)), seen)
        assert seen.sum() > 0


def test_a_transparent_image_with_shades_is_shown_on_white():
    photo = np.full((40, 40, 4), 255, dtype=np.uint8)
    photo[10:30, 18:22, :3] = 0  # a black bar on an opaque white card...
    photo[:, :5, 3] = 0  # ...whose left edge is transparent
    expected = np.full((40, 40), 255, dtype=np.uint8)
    expected[10:30, 18:22] = 0
    assert torch.equal(
        to_mnist_form(Image.fromarray(photo, "RGBA")), to_mnist_form(Image.fromarray(expected))
    )


def test_blank_image_stays_blank():
    assert to_mnist_form(Image.new("L", (40, 30), color=255)).sum() == 0


def test_find_images_takes_a_file_a_folder_or_a_glob(tmp_path):
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert find_images(str(tmp_path)) == [tmp_path / "a.jpg", tmp_path / "b.png"]
    assert find_images(str(tmp_path / "*.png")) == [tmp_path / "b.png"]
    assert find_images(str(tmp_path / "notes.txt")) == [tmp_path / "notes.txt"]


def test_predict_prints_lines_in_order_writes_csv_and_names_bad_files(
    test_digits, trained_checkpoint, real_data_dir, tmp_path
):
    images, labels = test_digits
    rng = np.random.default_rng(1)
    folder = tmp_path / "pictures"
    folder.mkdir()
    paths = [
        save_as_photo(digit.numpy(), folder / f"{index:02d}", FORMS[index % 4], rng)
        for index, digit in enumerate(images)
    ]
    (folder / "05_broken.png").write_bytes(b"this is not an image")
    result = run_cli(
        *predict_args(real_data_dir, trained_checkpoint),
        "--data.predict_path",
        str(folder),
        "--data.num_workers",
        "2",
        "--trainer.enable_progress_bar",
        "false",
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    assert f"cannot read {folder / '05_broken.png'} as an image" in result.stderr
    assert "Traceback" not in result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith(str(folder))]
    assert [line[0] for line in lines] == [str(path) for path in sorted(paths)]
    correct = sum(int(line[1]) == int(labels[i]) for i, line in enumerate(lines))
    assert correct >= 10, lines  # one epoch of training reads these digits in all four forms
    assert all(0.0 < float(line[2]) <= 1.0 for line in lines)
    (csv_path,) = (tmp_path / "lightning_logs").rglob("predictions.csv")
    with csv_path.open() as file:
        rows = list(csv.DictReader(file))
    assert [row["path"] for row in rows] == [line[0] for line in lines]
    assert [row["digit"] for row in rows] == [line[1] for line in lines]


def test_predict_reads_transparent_pngs_as_their_opaque_twins(
    test_digits, trained_checkpoint, real_data_dir, tmp_path
):
    digit = test_digits[0][0].numpy()
    for kind in TRANSPARENT_KINDS:
        transparent(digit, kind).save(tmp_path / f"{kind}.png")
        Image.fromarray(opaque_twin(digit, kind)).save(tmp_path / f"{kind}_opaque.png")
    pictures = ["--data.predict_path", str(tmp_path / "*.png"), "--trainer.enable_progress_bar", "false"]
    result = run_cli(*predict_args(real_data_dir, trained_checkpoint), *pictures, cwd=tmp_path)
    lines = [line for line in result.stdout.splitlines() if line.startswith(str(tmp_path))]
    answers = dict(line.split(maxsplit=1) for line in lines)
    for kind in TRANSPARENT_KINDS:
        assert answers[str(tmp_path / f"{kind}.png")] == answers[str(tmp_path / f"{kind}_opaque.png")]
    assert answers[str(tmp_path / "rgba.png")].split()[0] == str(int(test_digits[1][0]))


def test_predict_without_path_predicts_the_test_set(trained_checkpoint, real_data_dir, tmp_path):
    result = run_cli(
        *predict_args(real_data_dir, trained_checkpoint),
        "--trainer.enable_progress_bar",
        "false",
        cwd=tmp_path,
    )
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("test/")]
    assert len(lines) == 10_000 and lines[0][0] == "test/0" and lines[-1][0] == "test/9999"
    labels = MNIST(str(real_data_dir), train=False).targets
    accuracy = np.mean([int(line[1]) == int(label) for line, label in zip(lines, labels, strict=True)])
    assert accuracy > 0.9
