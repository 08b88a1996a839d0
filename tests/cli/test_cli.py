"""The command line end to end: `python -m rnn_lightning` as a user runs it, in a subprocess; what
`--print_config` prints is read in-process (the same parser: a subprocess adds only its start-up)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import CONFIGS, printed_config, run_cli


def scalar_and_image_tags(log_dir: Path) -> set[str]:
    tags: set[str] = set()
    for events in log_dir.glob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events), size_guidance={"images": 0, "scalars": 0})
        accumulator.Reload()
        tags |= set(accumulator.Tags()["scalars"]) | set(accumulator.Tags()["images"])
    return tags


@pytest.fixture(scope="module")
def fitted_run(real_data_dir, tmp_path_factory):
    """A 450-step fit of the default config on real MNIST (one validation, at step 430)."""
    workdir = tmp_path_factory.mktemp("run")
    result = run_cli(
        "fit",
        "--config",
        str(CONFIGS / "default.yaml"),
        "--data.data_dir",
        str(real_data_dir),
        "--trainer.max_steps",
        "450",
        "--trainer.enable_progress_bar",
        "false",
        cwd=workdir,
    )
    return workdir, workdir / "lightning_logs" / "version_0", result.stdout


def test_fit_prints_the_tutorial_lines_once(fitted_run):
    _, _, stdout = fitted_run
    lines = stdout.splitlines()
    steps = [line for line in lines if line.startswith("Step ")]
    assert [line.split(",")[0] for line in steps] == ["Step 1", "Step 200", "Step 400", "Step 450"]
    assert all(", Minibatch Loss= " in line and ", Training Accuracy= " in line for line in steps)
    assert lines.count("Optimization Finished!") == 1
    full = [line for line in lines if line.startswith("Testing Accuracy: ") and "(10000 test images)" in line]
    first = [line for line in lines if "(first 128 test images, as the tutorial)" in line]
    assert len(full) == len(first) == 1
    accuracy = float(full[0].split()[2])
    assert 0.15 < accuracy < 0.9  # 450 steps of SGD at 0.001: learning, far from done


def test_fit_writes_plot_history_checkpoints_and_tensorboard(fitted_run):
    _, log_dir, _ = fitted_run
    with Image.open(log_dir / "performance.png") as image:
        image.verify()
        assert image.format == "PNG"
    history = (log_dir / "history.csv").read_text().splitlines()
    assert history[0] == "step,loss,accuracy,val_accuracy" and history[1].startswith("1,")
    checkpoints = sorted(path.name for path in (log_dir / "checkpoints").glob("*.ckpt"))
    assert "last.ckpt" in checkpoints and any(name.startswith("best-") for name in checkpoints)
    tags = scalar_and_image_tags(log_dir)
    for tag in ("train/loss", "train/acc", "val/loss", "val/acc", "test/loss", "test/acc"):
        assert tag in tags
    assert any("performance" in tag for tag in tags)
    saved = yaml.safe_load((log_dir / "hparams.yaml").read_text())
    assert saved["hidden_size"] == 128 and saved["init"] == "tf"


def test_test_subcommand_from_the_checkpoint(fitted_run, real_data_dir):
    workdir, log_dir, stdout = fitted_run
    result = run_cli(
        "test",
        "--config",
        str(CONFIGS / "default.yaml"),
        "--data.data_dir",
        str(real_data_dir),
        "--ckpt_path",
        str(log_dir / "checkpoints" / "last.ckpt"),
        "--trainer.enable_progress_bar",
        "false",
        cwd=workdir,
    )
    after_fit = next(line for line in stdout.splitlines() if "(10000 test images)" in line).split()[2]
    assert "Testing Accuracy: " in result.stdout  # the tutorial's line, as fit's, not Lightning's table
    assert f"{float(after_fit):.4f}"[:5] in result.stdout  # the same weights give the same accuracy
    assert (workdir / "lightning_logs" / "version_1").is_dir()  # a new run folder, the fit's left as it was


def test_print_config_shows_the_tutorial_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = printed_config("fit", "--config", str(CONFIGS / "default.yaml"))
    assert config["trainer"]["max_steps"] == 10000
    assert config["data"]["batch_size"] == 128 and config["model"]["hidden_size"] == 128
    assert config["optimizer"]["class_path"] == "torch.optim.SGD"
    assert config["optimizer"]["init_args"]["lr"] == 0.001
    assert not (tmp_path / "lightning_logs").exists()


def test_command_line_overrides_reach_the_config():
    config = printed_config(
        "fit",
        "--config",
        str(CONFIGS / "default.yaml"),
        "--trainer.max_steps",
        "1000",
        "--model.hidden_size",
        "64",
        "--optimizer.lr",
        "0.01",
        "--data.data_dir",
        "elsewhere/",
    )
    assert config["trainer"]["max_steps"] == 1000 and config["model"]["hidden_size"] == 64
    assert config["optimizer"]["init_args"]["lr"] == 0.01 and config["data"]["data_dir"] == "elsewhere/"


def test_profiler_is_free_by_default_and_can_be_chosen():
    default = ("fit", "--config", str(CONFIGS / "default.yaml"))
    config = printed_config(*default)
    assert (
        config["trainer"]["profiler"]["class_path"] == "rnn_lightning.workarounds.null_profiler.NullProfiler"
    )
    chosen = printed_config(*default, "--trainer.profiler", "simple")
    assert chosen["trainer"]["profiler"] == "simple"


def test_missing_data_is_one_line_and_non_zero(tmp_path, run_here):
    result = run_here(
        "fit",
        "--config",
        str(CONFIGS / "default.yaml"),
        "--data.data_dir",
        str(tmp_path / "empty"),
        "--data.download",
        "false",  # tests never download
        "--trainer.max_steps",
        "2",
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    prefix = "python -m rnn_lightning: error:"
    errors = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert len(errors) == 1 and "train-images-idx3-ubyte" in errors[0]


def test_version_answers_without_importing_torch_or_lightning():
    code = (
        "import sys; from rnn_lightning.cli.main import main; main(['--version']); print(sorted(sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    version, modules = result.stdout.splitlines()
    assert version.startswith("python -m rnn_lightning ") or version.startswith("-c ")
    assert "'torch'" not in modules and "'lightning'" not in modules and "'jsonargparse'" not in modules


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (["fit", "--trainer.max_step", "3"], "--trainer.max_steps"),
        (["test", "--ckpt_pth", "x"], "--ckpt_path"),
        (["fit", "--model.hiden_size", "3"], "--model.hidden_size"),
        (["serve", "--ckpt_path", "last", "--prot", "80"], "--port"),
    ],
)
def test_a_mistyped_option_gets_did_you_mean(typed, meant, capsys):
    from rnn_lightning.cli.main import main

    assert main(typed) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith(f"(did you mean {meant}?)"), err


def test_an_option_like_none_gets_no_guess(capsys):
    from rnn_lightning.cli.main import main

    assert main(["fit", "--nonsense", "3"]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_console_script_is_installed_and_names_itself():
    """`rnn-lightning` runs the same `main` and calls itself what was typed (the commands that answer
    without PyTorch; the subcommands' list is the same parser's, tested in-process)."""
    from rnn_lightning import __version__

    script = str(Path(sys.executable).parent / "rnn-lightning")
    version = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout == f"rnn-lightning {__version__}\n"
    usage = subprocess.run([script, "export", "--help"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: rnn-lightning export ")


def test_a_cli_built_without_running_reads_the_shared_defaults(tmp_path):
    """The benchmarks build a fit with `run=False`: no subcommand, the same defaults."""
    from rnn_lightning.cli.lightning_cli import build_cli

    arguments = [
        "--config",
        str(CONFIGS / "default.yaml"),
        "--trainer.logger.init_args.save_dir",
        str(tmp_path),
    ]
    cli = build_cli([*arguments, "--trainer.enable_progress_bar", "false"], run=False)
    assert cli.trainer.logger.save_dir == str(tmp_path)
    assert any(type(c).__name__ == "TrainingHistory" for c in cli.trainer.callbacks)
