"""`export`: the file alone reads digits as `serve` does. ONNX Runtime and the exported program give
PyTorch's probabilities to 1e-5 for a checkpoint of every config and every cell kind, on MNIST test images
and on photos read as `predict` reads them; docs/export.md's example runs without PyTorch; bad input is one
line and exit 2, and nothing written before is lost."""

import json
import re
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from torchvision.datasets import FashionMNIST

from rnn_lightning.cli.main import main
from rnn_lightning.data.image_files import load_image
from rnn_lightning.data.sequences import fixed_permutation
from rnn_lightning.export.formats import METADATA_FILE
from rnn_lightning.export.graph import ExportedReader
from rnn_lightning.export.metadata import metadata
from rnn_lightning.model.classifier import SequenceClassifier
from rnn_lightning.model.reading import DigitReader
from tests.conftest import CONFIGS, PROJECT, QUICK_RUN, help_text, validation_batches
from tests.data.test_predict import FORMS, save_as_photo

TOLERANCE = 1e-5
SHORT_FIT = ("--trainer.max_steps", "20", *validation_batches(1))
# 784 steps a sequence: a tiny model and a few small batches, since the point is the graph, not accuracy.
LONG_SEQUENCE = ("--model.hidden_size", "8", "--data.batch_size", "32", "--trainer.max_steps", "3",
                 *validation_batches(1))  # fmt: skip
FITS = {
    "default.yaml": SHORT_FIT,
    "speedrun.yaml": SHORT_FIT,  # at `auto` (bf16 on AMX): the weights are fp32 all the same
    "tuned.yaml": SHORT_FIT,  # bidirectional: no answer after each row
    # Fashion-MNIST is not available offline: its model settings, trained on MNIST's images.
    "fashion.yaml": (*SHORT_FIT, "--data.dataset", "mnist"),
    "pixels.yaml": LONG_SEQUENCE,
    "permuted.yaml": LONG_SEQUENCE,
}
QUICK = ("default.yaml", "speedrun.yaml")  # the quick run: the tutorial's and the bf16 speedrun's (one each)
CASES = [
    pytest.param(
        config, format, id=f"{config[:-5]}-{format}", marks=[pytest.mark.slow] * (config not in QUICK)
    )
    for config in FITS
    for format in ("onnx", "pt2")
]
EXPORT_DOC = PROJECT / "docs" / "export.md"
NO_TORCH = """
import sys

class NoTorch:  # PyTorch (and this project, which needs it) cannot be imported: as if not installed
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("torch", "torchvision", "lightning", "rnn_lightning"):
            raise ModuleNotFoundError(f"No module named {name!r}")

sys.meta_path.insert(0, NoTorch())
sys.argv = ["example.py"]
exec(compile(open("example.py").read(), "example.py", "exec"))
"""


@pytest.fixture(scope="module")
def fitted(real_data_dir, tmp_path_factory):
    """A function: the `last.ckpt` of a short fit of a config on real MNIST, each fitted once."""
    done = {}

    def checkpoint(config: str) -> Path:
        if config not in done:
            logs = tmp_path_factory.mktemp(Path(config).stem)
            args = ["fit", "--config", str(CONFIGS / config), "--data.data_dir", str(real_data_dir)]
            args += [*QUICK_RUN, "--trainer.logger.init_args.save_dir", str(logs), *FITS[config]]
            with patch.object(sys, "argv", ["rnn_lightning"]):  # LightningCLI warns of pytest's own argv
                assert main(args) == 0
            done[config] = logs / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
        return done[config]

    return checkpoint


@pytest.fixture(scope="module")
def images(real_data_dir, tmp_path_factory) -> torch.Tensor:
    """MNIST test images, then photos of other test digits read as `predict` reads files (the shared
    preprocessing): enlarged, off-centre, dark on light or light on dark, PNG and JPEG."""
    test = torch.from_numpy(read_idx_images(real_data_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte"))
    folder, rng = tmp_path_factory.mktemp("photos"), np.random.default_rng(0)
    photos = []
    for index, form in enumerate(FORMS * 2):
        image, reason = load_image(save_as_photo(test[100 + index].numpy(), folder / f"d{index}", form, rng))
        assert reason is None, reason
        photos.append(image)
    return torch.cat([test[:24], torch.stack(photos)])


def read_idx_images(path: Path) -> np.ndarray:
    return np.fromfile(path, np.uint8, offset=16).reshape(-1, 28, 28)


def export(checkpoint: Path | str, output: Path, *options: str) -> None:
    assert main(["export", "--ckpt_path", str(checkpoint), "--output", str(output), *options]) == 0


def run_onnx(path: Path, images: np.ndarray) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"images": images})


def expected(checkpoint: Path, images: torch.Tensor) -> list[np.ndarray]:
    """What `serve` answers: the probabilities, and those after each row where the model has them."""
    reading = DigitReader(checkpoint).read(images)
    return [t.numpy() for t in (reading.probabilities, reading.probabilities_by_row) if t is not None]


def assert_same(found, wanted) -> None:
    assert len(found) == len(wanted)
    for got, want in zip(found, wanted, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def onnx_metadata(path: Path) -> dict[str, str]:
    return {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}


def check_metadata(about: dict[str, str], checkpoint: Path) -> None:
    """The file names the classes and says how it reads images, as the checkpoint does."""
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    data = saved["MNISTDataModule"]
    assert about["sequence"] == data["sequence"]
    assert json.loads(about.get("permutation", "null")) == data["permutation"]
    assert len(json.loads(about["classes"])) == saved["hyper_parameters"]["num_classes"]
    assert "20x20" in about["preprocessing"] and "centre of mass" in about["preprocessing"]


@pytest.mark.parametrize(("config", "format"), CASES)
def test_the_file_of_every_config_answers_as_pytorch_does(config, format, fitted, images, tmp_path, capsys):
    checkpoint = fitted(config)
    output = tmp_path / f"model.{format}"
    export(checkpoint, output, "--format", format)
    assert f"Wrote {output}" in capsys.readouterr().out
    wanted = expected(checkpoint, images)
    if format == "onnx":
        onnx.checker.check_model(str(output), full_check=True)
        found = [run_onnx(output, images.numpy()), run_onnx(output, images[:1].numpy())]
        about = onnx_metadata(output)
    else:
        extra = {METADATA_FILE: ""}
        program = torch.export.load(output, extra_files=extra).module()
        with torch.inference_mode():
            found = [[t.numpy() for t in program(batch)] for batch in (images, images[:1])]
        about = json.loads(extra[METADATA_FILE])
    assert_same(found[0], wanted)
    assert_same(found[1], [array[:1] for array in wanted])  # the batch size is free, down to one
    assert len(wanted) == (1 if config == "tuned.yaml" else 2)  # bidirectional: no steps
    check_metadata(about, checkpoint)


def handmade_checkpoint(path: Path, sequence: str = "rows", dataset: str = "mnist", **model) -> Path:
    """A checkpoint as Lightning writes one, of an untrained model (the graph is the point)."""
    torch.manual_seed(0)
    classifier = SequenceClassifier(input_size=28 if sequence == "rows" else 1, init="torch", **model)
    permutation = fixed_permutation(3).tolist() if sequence == "permuted" else None
    torch.save({
        "state_dict": classifier.state_dict(),
        "hyper_parameters": dict(classifier.hparams),
        "datamodule_hyper_parameters": {"dataset": dataset, "sequence": sequence},
        "MNISTDataModule": {"sequence": sequence, "permutation": permutation},
    }, path)  # fmt: skip
    return path


@pytest.mark.parametrize("model", [
    {"cell": "gru", "num_layers": 2},
    pytest.param({"cell": "rnn", "num_layers": 2, "bidirectional": True}, marks=pytest.mark.slow),
    pytest.param({"cell": "lstm", "num_layers": 2, "dropout": 0.3}, marks=pytest.mark.slow),
], ids=lambda model: "-".join(str(value) for value in model.values()))  # fmt: skip
def test_every_cell_stacked_or_bidirectional_exports(model, images, tmp_path, capsys):
    checkpoint = handmade_checkpoint(tmp_path / "model.ckpt", hidden_size=24, **model)
    export(checkpoint, tmp_path / "model.onnx")
    onnx.checker.check_model(str(tmp_path / "model.onnx"), full_check=True)
    assert_same(run_onnx(tmp_path / "model.onnx", images.numpy()), expected(checkpoint, images))
    assert "rows" in capsys.readouterr().out
    # one ONNX recurrent operator per layer (both directions in it), not the recurrence spelt out per step
    nodes = [node.op_type for node in onnx.load(str(tmp_path / "model.onnx")).graph.node]
    assert nodes.count(model["cell"].upper()) == model["num_layers"] and "Tanh" not in nodes


def test_the_exporter_still_spells_out_a_plain_rnn_without_our_translation():
    """rnn_lightning/export/onnx_rnn.py can go once this fails: the exporter then writes ONNX's RNN itself."""
    rnn = torch.nn.RNN(3, 4, batch_first=True).eval()
    exported = torch.onnx.export(rnn, (torch.zeros(2, 5, 3),), dynamo=True, verbose=False)
    nodes = [node.op_type for node in exported.model_proto.graph.node]
    assert "RNN" not in nodes and nodes.count("Tanh") == 5  # one per step


def test_float32_input_gives_the_same_answers_and_is_left_as_it_was(images, tmp_path):
    checkpoint = handmade_checkpoint(tmp_path / "model.ckpt", hidden_size=16)
    export(checkpoint, tmp_path / "model.onnx", "--input_dtype", "float32")
    pixels = images.numpy().astype(np.float32)
    before = pixels.copy()
    assert_same(run_onnx(tmp_path / "model.onnx", pixels), expected(checkpoint, images))
    assert np.array_equal(pixels, before)
    assert "float32" in onnx_metadata(tmp_path / "model.onnx")["input"]


def test_the_metadata_names_fashion_classes_and_the_permutation(tmp_path):
    checkpoint = handmade_checkpoint(tmp_path / "model.ckpt", "permuted", "fashion_mnist", hidden_size=4)
    reader = DigitReader(checkpoint)
    about = metadata(reader, ExportedReader(reader), "uint8")  # what both formats write, without a trace
    assert json.loads(about["classes"]) == list(FashionMNIST.classes)
    assert json.loads(about["permutation"]) == fixed_permutation(3).tolist()
    assert about["sequence"] == "permuted" and "Fashion" in about["model"]


def readme_example() -> str:
    """The ONNX Runtime example the README links to: the Python block of docs/export.md's "The file"."""
    section = EXPORT_DOC.read_text().split("\n## The file\n")[1].split("\n## ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    return blocks[0]


def test_the_readme_example_runs_with_onnx_runtime_alone(fitted, real_data_dir, tmp_path):
    example = readme_example()
    assert len(example.strip().splitlines()) <= 10
    checkpoint = fitted("default.yaml")
    export(checkpoint, tmp_path / "model.onnx")
    (tmp_path / "example.py").write_text(example)
    (tmp_path / "data").symlink_to(real_data_dir)  # the example reads data/MNIST/raw/, as in a checkout
    result = subprocess.run([sys.executable, "-c", NO_TORCH], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    first = torch.from_numpy(read_idx_images(real_data_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte")[:8])
    digits = [str(int(d)) for d in DigitReader(checkpoint).read(first).probabilities.argmax(1)]
    assert result.stdout.splitlines()[0] == str(digits)


def test_the_no_torch_guard_does_hide_torch(tmp_path):
    (tmp_path / "example.py").write_text("import torch\n")
    result = subprocess.run([sys.executable, "-c", NO_TORCH], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0 and "No module named 'torch'" in result.stderr


def export_fails(cwd: Path, *options: str) -> str:
    """Runs `export` as a user would, expecting one line on stderr and exit status 2; returns that line."""
    command = [sys.executable, "-m", "rnn_lightning", "export", *options]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    return one_line(result.stderr)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m rnn_lightning: error:"), lines
    return lines[0]


def export_refused(capsys, *options: str) -> str:
    """`export` in this process (what the command runs, less start-up): exit status 2 and one line."""
    capsys.readouterr()
    assert main(["export", *options]) == 2
    return one_line(capsys.readouterr().err)


@pytest.mark.parametrize("kind", ["missing", "unreadable", "foreign", "no runs for last"])
def test_a_bad_checkpoint_is_one_line_and_exit_status_2(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.ckpt"
    if kind == "unreadable":
        path.write_text("hello")
    elif kind == "foreign":
        torch.save({"state_dict": {"layer.weight": torch.zeros(2)}, "hyper_parameters": {"lr": 1}}, path)
    given = "last" if kind == "no runs for last" else str(path)
    line = export_refused(capsys, "--ckpt_path", given, "--output", "model.onnx")
    assert ("lightning_logs" if given == "last" else str(path)) in line
    assert list(tmp_path.iterdir()) == ([] if kind in ("missing", "no runs for last") else [path])


def test_an_output_folder_that_does_not_exist_is_one_line_and_exit_status_2(tmp_path):
    checkpoint = handmade_checkpoint(tmp_path / "model.ckpt", hidden_size=4)
    line = export_fails(tmp_path, "--ckpt_path", str(checkpoint), "--output", "nowhere/model.onnx")
    assert "nowhere" in line and "does not exist" in line
    assert not (tmp_path / "nowhere").exists()


def test_an_existing_file_is_kept_unless_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    checkpoint = handmade_checkpoint(tmp_path / "model.ckpt", hidden_size=4)
    output = tmp_path / "model.onnx"
    output.write_bytes(b"my earlier model")
    line = export_refused(capsys, "--ckpt_path", str(checkpoint), "--output", str(output))
    assert "--overwrite" in line and output.read_bytes() == b"my earlier model"
    # `last` resolves as everywhere: the newest run's last.ckpt under lightning_logs/
    for version, cell in ((2, "lstm"), (10, "gru")):
        run = tmp_path / "lightning_logs" / f"version_{version}" / "checkpoints"
        run.mkdir(parents=True)
        handmade_checkpoint(run / "last.ckpt", hidden_size=6, cell=cell)
    export("last", output, "--overwrite")
    assert "GRU 6" in capsys.readouterr().out and "GRU 6" in onnx_metadata(output)["model"]
    onnx.checker.check_model(str(output))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lightning_logs", "model.ckpt", "model.onnx"]


def test_a_model_the_exporter_refuses_is_one_line_and_nothing_is_written(tmp_path, monkeypatch, capsys):
    from rnn_lightning.export import formats

    def refuse(graph, dtype):  # as torch.export does for an operation it cannot follow
        raise RuntimeError("Unsupported: an operation the tracer cannot follow\n  (a long explanation)")

    monkeypatch.setattr(formats, "trace", refuse)
    checkpoint = handmade_checkpoint(tmp_path / "model.ckpt", hidden_size=4)
    capsys.readouterr()
    assert main(["export", "--ckpt_path", str(checkpoint), "--output", str(tmp_path / "model.onnx")]) == 2
    progress, line = capsys.readouterr().err.strip().splitlines()  # what it was doing, then why it stopped
    assert progress.startswith(f"Exporting {checkpoint}")
    why = "LSTM 4, 1 layer, on MNIST rows cannot be exported as onnx: Unsupported: an operation the tracer"
    assert line == f"python -m rnn_lightning: error: {why} cannot follow"
    assert [p.name for p in tmp_path.iterdir()] == ["model.ckpt"]


def test_the_writer_never_replaces_a_file_made_meanwhile(tmp_path, monkeypatch):
    from rnn_lightning.errors import UserInputError
    from rnn_lightning.export import writing

    target = tmp_path / "model.onnx"
    checked = writing.check_output

    def check_then_someone_writes(path, overwrite):  # another process creates the file after the check
        checked(path, overwrite)
        path.write_bytes(b"theirs")

    monkeypatch.setattr(writing, "check_output", check_then_someone_writes)
    with pytest.raises(UserInputError, match="exists"):
        writing.write_new(target, b"ours")
    assert target.read_bytes() == b"theirs" and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_export_is_listed_in_the_commands_help():
    from rnn_lightning.export.command import HELP

    assert HELP in " ".join(help_text().split())
