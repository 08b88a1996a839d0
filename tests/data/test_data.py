"""The data module: the tutorial's split, the sequence shapes, and the batch order."""

from pathlib import Path

import pytest
import torch
from torchvision.datasets import MNIST

from rnn_lightning.data.batches import BatchOrder, RandomShift
from rnn_lightning.data.datamodule import MNISTDataModule
from rnn_lightning.errors import UserInputError


@pytest.fixture(scope="module")
def real_datamodule(real_data_dir):
    datamodule = MNISTDataModule(data_dir=str(real_data_dir))
    datamodule.setup("fit")
    return datamodule


def test_split_sizes_and_order_follow_read_data_sets(real_datamodule, real_data_dir):
    official = MNIST(str(real_data_dir), train=True)
    train, val, test = (real_datamodule.split(name) for name in ("train", "val", "test"))
    assert [len(split[0]) for split in (train, val, test)] == [55_000, 5_000, 10_000]
    assert torch.equal(val[0], official.data[:5000]) and torch.equal(val[1], official.targets[:5000])
    assert torch.equal(train[0][0], official.data[5000]) and torch.equal(train[0][-1], official.data[-1])


def test_batches_are_row_sequences_in_unit_range(real_datamodule):
    inputs, labels = next(iter(real_datamodule.train_dataloader()))
    assert inputs.shape == (128, 28, 28) and inputs.dtype == torch.float32
    assert labels.shape == (128,) and labels.dtype == torch.int64
    assert inputs.min() >= 0.0 and inputs.max() <= 1.0 and inputs.max() > 0.99
    assert len(real_datamodule.train_dataloader()) == 430  # 55,000 / 128, the last batch partial


def test_training_order_is_reshuffled_every_epoch():
    order = BatchOrder(1000, 128, shuffle=True, seed=3)
    first = torch.cat(list(order))
    order.set_epoch(1)
    second = torch.cat(list(order))
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(1000))
    assert not torch.equal(first, second)
    order.set_epoch(0)
    assert torch.equal(torch.cat(list(order)), first)  # the order of an epoch depends on seed and epoch alone


def test_evaluation_order_is_fixed_and_complete():
    order = BatchOrder(300, 128, shuffle=False)
    assert torch.equal(torch.cat(list(order)), torch.arange(300))
    assert [len(batch) for batch in order] == [128, 128, 44]


def test_shards_cover_the_split_once_for_evaluation_and_evenly_for_training():
    shards = [list(BatchOrder(301, 16, shuffle=False, rank=r, world_size=2)) for r in range(2)]
    assert sorted(torch.cat([torch.cat(s) for s in shards]).tolist()) == list(range(301))
    train = [
        BatchOrder(301, 16, shuffle=True, seed=1, rank=r, world_size=2, even_shards=True) for r in range(2)
    ]
    assert len(train[0]) == len(train[1]) == len(list(train[0])) == len(list(train[1]))
    together = torch.cat([torch.cat(list(o)) for o in train]).tolist()
    assert len(set(together)) == len(together) == 300


def test_order_resumes_after_the_batches_handed_out():
    full = list(BatchOrder(1000, 100, shuffle=True, seed=5))
    order = BatchOrder(1000, 100, shuffle=True, seed=5)
    iterator = iter(order)
    next(iterator), next(iterator)
    restored = BatchOrder(1000, 100, shuffle=True, seed=99)  # the seed comes back with the state
    restored.load_state_dict(order.state_dict())
    rest = list(restored)
    assert len(rest) == 8 and all(torch.equal(a, b) for a, b in zip(rest, full[2:], strict=True))
    assert len(list(restored)) == 10  # the resume point applies to one pass; the next is whole
    restored.set_epoch(1)
    assert not torch.equal(torch.cat(list(restored)), torch.cat(full))


def test_every_pass_of_an_evaluation_order_is_whole():
    order = BatchOrder(300, 128, shuffle=False)
    first = iter(order)
    next(first), next(first), next(first)  # a loop that stops at the known length, never at StopIteration
    assert len(list(order)) == 3


@pytest.mark.parametrize(
    ("sequence", "shape"), [("rows", (28, 28)), ("pixels", (784, 1)), ("permuted", (784, 1))]
)
def test_sequence_kinds(fake_data_dir, sequence, shape):
    datamodule = MNISTDataModule(data_dir=str(fake_data_dir), batch_size=8, sequence=sequence)
    datamodule.setup("fit")
    inputs, _ = next(iter(datamodule.val_dataloader()))
    assert inputs.shape == (8, *shape)
    assert datamodule.input_size == shape[1]
    rows = datamodule.split("val")[0][:8].float().div(255)
    if sequence == "permuted":
        assert torch.equal(inputs.squeeze(-1).sort(dim=1).values, rows.flatten(1).sort(dim=1).values)
        assert not torch.equal(inputs.squeeze(-1), rows.flatten(1))
        assert torch.equal(inputs.squeeze(-1), rows.flatten(1)[:, datamodule.to_sequence.permutation])
    else:
        assert torch.equal(inputs.reshape(8, 28, 28), rows)
    # and back: the images the model was given, as the test report draws them
    assert torch.equal(datamodule.to_sequence.to_images(inputs), datamodule.split("val")[0][:8])


def test_evaluation_batches_have_their_own_size(fake_data_dir):
    datamodule = MNISTDataModule(data_dir=str(fake_data_dir), batch_size=8, eval_batch_size=32)
    datamodule.setup("fit")
    datamodule.setup("test")
    assert len(next(iter(datamodule.train_dataloader()))[0]) == 8
    for name, loader in (("val", datamodule.val_dataloader()), ("test", datamodule.test_dataloader())):
        sizes = [len(labels) for _, labels in loader]
        assert sizes[0] == 32 and sum(sizes) == len(datamodule.split(name)[1])
    plain = MNISTDataModule(data_dir=str(fake_data_dir), batch_size=8)
    plain.setup("fit")
    assert len(next(iter(plain.val_dataloader()))[0]) == 8  # unset, evaluation keeps `batch_size`
    with pytest.raises(UserInputError, match="eval_batch_size"):
        MNISTDataModule(data_dir=str(fake_data_dir), eval_batch_size=0)


def test_missing_data_offline_names_folder_and_files(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(MNIST, "download", refuse)
    datamodule = MNISTDataModule(data_dir=str(tmp_path))
    with pytest.raises(UserInputError) as error:
        datamodule.prepare_data()
    message = str(error.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "\n" not in message
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        assert name in message


def test_a_failed_download_leaves_no_folder_and_keeps_what_was_there(tmp_path, monkeypatch):
    """torchvision's own download, from a mirror that refuses at once (nothing leaves the machine)."""
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])
    new_root = tmp_path / "wrong" / "place"
    with pytest.raises(UserInputError, match="could not be downloaded"):
        MNISTDataModule(data_dir=str(new_root)).prepare_data()
    assert not (tmp_path / "wrong").exists()
    kept = tmp_path / "mine" / "MNIST" / "raw" / "notes.txt"
    kept.parent.mkdir(parents=True)
    kept.write_text("mine")
    with pytest.raises(UserInputError, match="could not be downloaded"):
        MNISTDataModule(data_dir=str(tmp_path / "mine")).prepare_data()
    assert sorted(path.name for path in kept.parent.iterdir()) == ["notes.txt"]


def test_every_missing_data_error_gives_the_readmes_offline_advice(tmp_path, monkeypatch):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    offline = " ".join(readme[readme.index("## MNIST offline") :].split("\n## ")[0].split())
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])
    messages = []
    for download in (True, False):
        with pytest.raises(UserInputError) as error:
            MNISTDataModule(data_dir=str(tmp_path), download=download).prepare_data()
        messages.append(str(error.value))
    with pytest.raises(UserInputError) as error:
        MNISTDataModule(data_dir=str(tmp_path)).setup("fit")
    messages.append(str(error.value))
    for message in messages:
        advice = message[message.index("put the four") :]
        assert advice.startswith("put the four uncompressed files train-images-idx3-ubyte")
        assert "(README: MNIST offline)" in advice and "put the four uncompressed files" in offline
        assert "or name a folder holding MNIST/raw/ with them in --data.data_dir" in advice


def test_prepare_data_does_not_download_when_files_exist(fake_data_dir, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("download attempted")

    monkeypatch.setattr(MNIST, "download", forbidden)
    MNISTDataModule(data_dir=str(fake_data_dir)).prepare_data()


def test_truncated_idx_file_is_named(fake_data_dir):
    images = fake_data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(UserInputError, match="truncated or corrupt"):
        MNISTDataModule(data_dir=str(fake_data_dir)).setup("fit")


def test_bad_magic_is_named(fake_data_dir):
    labels = fake_data_dir / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(b"\x89PNG" + labels.read_bytes()[4:])
    with pytest.raises(UserInputError, match="not an IDX file"):
        MNISTDataModule(data_dir=str(fake_data_dir)).setup("fit")


def test_random_shift_moves_whole_digits_reproducibly():
    images = torch.zeros(16, 28, 28, dtype=torch.uint8)
    images[:, 10:18, 9:19] = 200
    shift = RandomShift(2)
    moved = shift(images, seed=11)
    assert torch.equal(moved, shift(images, seed=11)) and not torch.equal(moved, shift(images, seed=12))
    assert torch.equal(moved.sum(dim=(1, 2)), images.sum(dim=(1, 2)))  # nothing cut off, nothing added
    corners = [tuple(image.nonzero().min(0).values.tolist()) for image in moved]
    assert all(8 <= row <= 12 and 7 <= col <= 11 for row, col in corners)
    assert len(set(corners)) > 3


def test_augmentation_touches_training_batches_only(fake_data_dir):
    plain = MNISTDataModule(data_dir=str(fake_data_dir), batch_size=32)
    shifted = MNISTDataModule(data_dir=str(fake_data_dir), batch_size=32, augment_shift=2)
    for datamodule in (plain, shifted):
        datamodule.setup("fit")
    assert not torch.equal(next(iter(plain.train_dataloader()))[0], next(iter(shifted.train_dataloader()))[0])
    assert torch.equal(next(iter(plain.val_dataloader()))[0], next(iter(shifted.val_dataloader()))[0])
