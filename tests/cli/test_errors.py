"""Bad input: one line on stderr that names the problem, a non-zero exit, no traceback, nothing lost."""

import sys

import pytest
import torch

from rnn_lightning.cli.main import main
from tests.conftest import CONFIGS

DEFAULT = str(CONFIGS / "default.yaml")


def fail(capsys, *args: str) -> str:
    """Runs the CLI in this process; returns its one error line after checking exit status and form."""
    status = main(list(args))
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("python -m rnn_lightning: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_wrong_type_on_the_command_line(capsys):
    line = fail(capsys, "fit", "--config", DEFAULT, "--trainer.max_steps", "many")
    assert "trainer.max_steps" in line


def test_unknown_key_on_the_command_line(capsys):
    line = fail(capsys, "fit", "--config", DEFAULT, "--model.hiden_size", "64")
    assert "hiden_size" in line


@pytest.mark.parametrize(
    "args",
    [
        ("fit", "--config", DEFAULT, "--trainer.max_step", "10"),  # argparse would read it as max_steps
        ("serve", "--ckpt_path", "last", "--por", "9999"),
        ("export", "--ckpt_path", "last", "--out", "model.onnx"),
    ],
)
def test_a_shortened_option_is_a_typo_not_the_option_it_begins(capsys, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    line = fail(capsys, *args)
    assert "unrecognized arguments" in line and args[-2] in line
    assert not list(tmp_path.iterdir())  # nothing trained, served or written


def test_settings_lightning_finds_contradictory_are_one_line(capsys, fake_data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the config's ModelCheckpoint against a Trainer told not to checkpoint
    args = "--data.data_dir", str(fake_data_dir), "--trainer.enable_checkpointing", "false"
    line = fail(capsys, "fit", "--config", DEFAULT, *args)
    assert "enable_checkpointing=False" in line and "ModelCheckpoint" in line
    assert not (tmp_path / "lightning_logs").exists()  # no run folder left behind


def test_unknown_key_in_a_config_file(capsys, tmp_path):
    config = tmp_path / "typo.yaml"
    config.write_text("model:\n  hidden_sise: 64\n")
    line = fail(capsys, "fit", "--config", DEFAULT, "--config", str(config))
    assert "hidden_sise" in line


def test_wrong_type_in_a_config_file(capsys, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("data:\n  batch_size: large\n")
    line = fail(capsys, "fit", "--config", DEFAULT, "--config", str(config))
    assert "batch_size" in line


def test_missing_config_file(capsys, tmp_path):
    line = fail(capsys, "fit", "--config", str(tmp_path / "nowhere.yaml"))
    assert "nowhere.yaml" in line


def test_data_folder_without_mnist(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = fail(
        capsys, "fit", "--config", DEFAULT, "--data.data_dir", str(tmp_path), "--data.download", "false"
    )
    assert str(tmp_path / "MNIST" / "raw") in line and "t10k-labels-idx1-ubyte" in line


def test_truncated_idx_file(capsys, fake_data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    labels = fake_data_dir / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-7])
    line = fail(capsys, "fit", "--config", DEFAULT, "--data.data_dir", str(fake_data_dir))
    assert "train-labels-idx1-ubyte" in line and "truncated or corrupt" in line


@pytest.fixture
def small_checkpoint(fake_data_dir, tmp_path, monkeypatch):
    """A checkpoint of a 16-unit model, written by a 3-step fit."""
    monkeypatch.chdir(tmp_path)
    args = ["fit", "--config", DEFAULT, "--data.data_dir", str(fake_data_dir), "--model.hidden_size", "16"]
    args += [
        "--trainer.max_steps",
        "3",
        "--trainer.enable_progress_bar",
        "false",
        "--test_after_fit",
        "false",
    ]
    assert main(args) == 0
    return tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"


def test_missing_checkpoint(capsys, fake_data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = fail(
        capsys, "test", "--config", DEFAULT, "--data.data_dir", str(fake_data_dir), "--ckpt_path", "gone.ckpt"
    )
    assert "gone.ckpt does not exist" in line


def test_unreadable_checkpoint(capsys, fake_data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint at all")
    line = fail(
        capsys, "test", "--config", DEFAULT, "--data.data_dir", str(fake_data_dir), "--ckpt_path", "junk.ckpt"
    )
    assert "junk.ckpt is not a checkpoint: it is a text file" in line


def test_checkpoint_of_a_different_model_shape(capsys, small_checkpoint, fake_data_dir, tmp_path):
    before = small_checkpoint.read_bytes()
    runs_before = sorted(p.name for p in (tmp_path / "lightning_logs").iterdir())
    capsys.readouterr()
    args = ["fit", "--config", DEFAULT, "--data.data_dir", str(fake_data_dir), "--data.sequence", "pixels"]
    line = fail(capsys, *args, "--ckpt_path", str(small_checkpoint))
    # trained on rows (28 inputs per step), asked to read pixels (1 per step)
    assert "different model shape" in line and "(64, 28) there and (64, 1) here" in line
    assert small_checkpoint.read_bytes() == before  # nothing written before is touched
    assert sorted(p.name for p in (tmp_path / "lightning_logs").iterdir()) == runs_before


def test_checkpoint_brings_its_model_hyper_parameters(capsys, small_checkpoint, fake_data_dir):
    # LightningCLI adopts the model settings saved in the checkpoint (hidden_size 16 here), so the
    # default config tests it as it was trained.
    args = ["test", "--config", DEFAULT, "--data.data_dir", str(fake_data_dir)]
    assert main([*args, "--ckpt_path", str(small_checkpoint), "--trainer.enable_progress_bar", "false"]) == 0
    assert "Testing Accuracy: " in capsys.readouterr().out
    assert torch.load(small_checkpoint, weights_only=False)["global_step"] == 3


@pytest.mark.parametrize("missing", ["jsonargparse", "lightning"])
def test_a_python_without_the_requirements_says_so_in_one_line(capsys, monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # `import` of it now fails as if not installed
    line = fail(capsys, "fit", "--config", DEFAULT, "--trainer.max_steps", "1")
    assert f"no module {missing!r}" in line and sys.executable in line and "virtual environment" in line


def test_a_missing_module_of_the_project_itself_is_a_bug_not_a_requirement(monkeypatch):
    monkeypatch.setitem(sys.modules, "rnn_lightning.cli.lightning_cli", None)
    with pytest.raises(ModuleNotFoundError):
        main(["fit", "--config", DEFAULT, "--trainer.max_steps", "1"])


def test_fit_without_an_optimizer_names_one(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no --config: the model leaves its optimizer to the config
    line = fail(capsys, "fit", "--trainer.max_steps", "1")
    assert "needs an optimizer" in line and "--config configs/default.yaml" in line
    assert "configure_optimizers" not in line  # Lightning's advice to write a method
    assert not list(tmp_path.iterdir())


def test_no_subcommand_lists_every_subcommand(capsys):
    line = fail(capsys)
    assert all(name in line for name in ("fit", "validate", "test", "predict", "serve", "export")), line


@pytest.mark.parametrize("precision", ["bf16-true", "16-true", "64-true"])
def test_a_whole_model_precision_is_one_line_before_the_run(
    capsys, fake_data_dir, tmp_path, monkeypatch, precision
):
    monkeypatch.chdir(tmp_path)  # before: trained, then a traceback from the test report's metrics
    args = "--data.data_dir", str(fake_data_dir), "--trainer.max_steps", "2", "--trainer.precision", precision
    line = fail(capsys, "fit", "--config", DEFAULT, *args)
    assert f"--trainer.precision {precision}" in line and "bf16-mixed" in line
    assert not (tmp_path / "lightning_logs").exists()  # refused before any run folder


def test_testing_a_checkpoint_at_a_whole_model_precision_is_one_line(capsys, small_checkpoint, fake_data_dir):
    args = "--ckpt_path", str(small_checkpoint), "--data.data_dir", str(fake_data_dir)
    line = fail(capsys, "test", *args, "--trainer.precision", "bf16-true")
    assert "--trainer.precision bf16-true" in line


@pytest.mark.parametrize("layers", ["1", "2"])
def test_a_dropout_out_of_range_is_refused_whatever_the_depth(capsys, layers):
    line = fail(capsys, "fit", "--config", DEFAULT, "--model.dropout", "1.5", "--model.num_layers", layers)
    assert "dropout" in line and "1.5" in line


@pytest.mark.parametrize("subcommand", ["validate", "test", "predict"])
def test_measuring_without_a_checkpoint_asks_for_one(capsys, tmp_path, monkeypatch, subcommand):
    monkeypatch.chdir(tmp_path)  # before: an untrained model measured, its report pictures written
    line = fail(capsys, subcommand, "--config", DEFAULT)
    assert f"{subcommand} needs --ckpt_path" in line and "'last'" in line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("seed", ["-5", str(2**32)])
def test_a_seed_out_of_numpys_range_is_one_line(capsys, tmp_path, monkeypatch, seed):
    monkeypatch.chdir(tmp_path)  # before: numpy's ValueError as a traceback from LightningCLI's seeding
    line = fail(capsys, "fit", "--config", DEFAULT, "--seed_everything", seed)
    assert f"--seed_everything {seed}" in line and str(2**32 - 1) in line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "setting",
    [
        ("--trainer.val_check_interval", "0"),  # before: ZeroDivisionError after the first step
        ("--trainer.val_check_interval", "50"),  # over the fake data's batches: Lightning's ValueError
        ("--trainer.gradient_clip_val", "-1"),  # before: taken, and the gradients' sign flipped
        ("--data.test_path", "no_such_folder"),  # before: trained first, then refused at the test
    ],
)
def test_a_setting_that_would_fail_mid_run_is_refused_before_it(
    capsys, fake_data_dir, tmp_path, monkeypatch, setting
):
    monkeypatch.chdir(tmp_path)
    short = "--trainer.max_steps", "3"  # on a regression, a short run to fail on, not 10,000 steps
    status = main(["fit", "--config", DEFAULT, "--data.data_dir", str(fake_data_dir), *short, *setting])
    captured = capsys.readouterr()
    assert status == 2 and "Traceback" not in captured.err, captured.err[-2000:]
    ours = [line for line in captured.err.splitlines() if line.startswith("python -m rnn_lightning: error:")]
    assert len(ours) == 1 and setting[0].removeprefix("--").split(".")[-1] in ours[0]
    assert "Step 1," not in captured.out  # refused before the first step
    assert not (tmp_path / "lightning_logs").exists()
