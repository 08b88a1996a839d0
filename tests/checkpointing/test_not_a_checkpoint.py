"""A file given as a checkpoint that is not one: one line saying what it is, where that can be told, and
never PyTorch's text about `weights_only`."""

import zipfile
from pathlib import Path

import pytest
import torch

from rnn_lightning.checkpointing.files import load_checkpoint
from rnn_lightning.errors import UserInputError
from tests.cli.test_errors import DEFAULT, fail


class Whole:
    """An object that a weights-only load refuses: torch.save of it pickles this class."""


def write_run_folder(root: Path) -> Path:
    """A run's folder as a fit leaves it: config.yaml, hparams.yaml and checkpoints/last.ckpt."""
    folder = root / "lightning_logs" / "version_0"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "config.yaml").write_text(
        "seed_everything: 1234\ntrainer:\n  max_steps: 3\nmodel:\n  cell: lstm\n"
    )
    (folder / "hparams.yaml").write_text("cell: lstm\nhidden_size: 128\nnum_layers: 1\n")
    torch.save({"state_dict": {}}, folder / "checkpoints" / "last.ckpt")
    return folder


def onnx_file(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, producer_name="pytorch")
    path.write_bytes(model.SerializeToString())
    onnx.checker.check_model(str(path))
    return path


def pt2_file(path: Path) -> Path:
    class Double(torch.nn.Module):
        def forward(self, x):
            return x * 2

    torch.export.save(torch.export.export(Double(), (torch.zeros(2),)), path)
    return path


def written(data: bytes):
    """A maker of a file holding `data`."""

    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return make


def other_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hi")
    return path


def whole_object(path: Path) -> Path:
    torch.save({"state_dict": Whole()}, path)
    return path


def refusal(path: Path) -> str:
    with pytest.raises(UserInputError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert "\n" not in message and "weights_only" not in message and "arbitrary code" not in message
    assert str(path) in message
    return message


def test_a_runs_config_and_hparams_say_so_and_where_the_checkpoint_is(tmp_path):
    folder = write_run_folder(tmp_path)
    hint = f"the run's checkpoint is {folder / 'checkpoints' / 'last.ckpt'}"
    assert refusal(folder / "config.yaml").endswith(f"is not a checkpoint: it is a run's YAML config; {hint}")
    assert "model hyper-parameters (hparams.yaml)" in refusal(folder / "hparams.yaml")
    assert refusal(folder).endswith(f"is not a checkpoint: it is a folder; {hint}")


@pytest.mark.parametrize(
    ("kind", "make", "says"),
    [
        ("missing", lambda p: p, "does not exist"),
        ("empty", written(b""), "an empty file"),
        ("random bytes", written(bytes(range(7, 256)) * 9), "of an unknown kind"),
        ("text", written(b"not a checkpoint at all\n"), "a text file"),
        ("other zip", other_zip, "a zip archive"),
        ("png", written(b"\x89PNG\r\n\x1a\n" + bytes(64)), "a PNG image"),
        ("onnx", onnx_file, "an ONNX model"),
        ("pt2", pt2_file, "a torch.export program"),
        ("a whole object", whole_object, "holds Python objects"),
    ],
)
def test_each_kind_of_file_is_one_line_saying_what_it_is(kind, make, says, tmp_path):
    message = refusal(make(tmp_path / "model.ckpt"))
    assert says in message, message
    if kind == "a whole object":
        assert "Whole" in message and "not loaded" in message


def test_a_truncated_checkpoint_says_it_cannot_be_read(tmp_path):
    whole = tmp_path / "whole.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, whole)
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(whole.read_bytes()[:2000])
    assert "cannot be read" in refusal(cut)


def test_test_with_an_onnx_file_is_one_line(capsys, fake_data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = onnx_file(tmp_path / "model.onnx")
    args = ["test", "--config", DEFAULT, "--data.data_dir", str(fake_data_dir), "--ckpt_path", str(path)]
    assert "model.onnx is not a checkpoint: it is an ONNX model" in fail(capsys, *args)
