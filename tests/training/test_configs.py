"""Every config in configs/ runs; the options combine; predict reads images as the model was trained."""

import numpy as np
import pytest
import yaml
from PIL import Image

from rnn_lightning.cli.main import main
from tests.conftest import CONFIGS, FEW_STEPS, make_fake_mnist

QUICK = [*FEW_STEPS, "--trainer.enable_progress_bar", "false"]  # the test after fit included
# Batches of 16: a backward pass over 784 pixel steps is slow on a CPU (its gradients fade into
# denormal floats), 4 s a step at batch 128 on 2 cores; these tests ask that each config runs, not how fast.
QUICK += ["--data.batch_size", "16"]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Generated MNIST and Fashion-MNIST files side by side; runs land in tmp_path."""
    monkeypatch.chdir(tmp_path)
    root = make_fake_mnist(tmp_path / "data")
    make_fake_mnist(root, folder="FashionMNIST", seed=1)
    return root


def last_run(tmp_path):
    return sorted((tmp_path / "lightning_logs").glob("version_*"), key=lambda p: int(p.name.split("_")[1]))[
        -1
    ]


@pytest.mark.parametrize("config", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_config_runs(config, data_dir, tmp_path, capsys):
    """On any CPU: a config at `trainer.precision: auto` names the precision it resolved to in one line
    and its run's config.yaml records it."""
    assert main(["fit", "--config", str(config), "--data.data_dir", str(data_dir), *QUICK]) == 0
    captured = capsys.readouterr()
    assert "Optimization Finished!" in captured.out and "Testing Accuracy:" in captured.out
    assert (last_run(tmp_path) / "checkpoints" / "last.ckpt").is_file()
    typed = (yaml.safe_load(config.read_text()).get("trainer") or {}).get("precision")
    saved = yaml.safe_load((last_run(tmp_path) / "config.yaml").read_text())["trainer"]["precision"]
    said = [line for line in captured.err.splitlines() if "precision auto: " in line]
    if typed == "auto":
        assert len(said) == 1 and said[0].split("precision auto: ")[1].startswith(f"{saved} (")
    else:
        assert said == [] and saved == typed


def test_options_combine_two_layer_bidirectional_gru_over_permuted_pixels(data_dir, tmp_path, capsys):
    args = ["fit", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(data_dir), *QUICK]
    args += ["--data.sequence", "permuted", "--model.cell", "gru", "--model.num_layers", "2"]
    args += ["--model.bidirectional", "true", "--model.dropout", "0.2", "--trainer.gradient_clip_val", "0.5"]
    assert main([*args, "--model.hidden_size", "16"]) == 0  # small: 784 steps each way, two layers
    hparams = (last_run(tmp_path) / "hparams.yaml").read_text()
    assert "input_size: 1" in hparams and "cell: gru" in hparams and "bidirectional: true" in hparams


@pytest.mark.parametrize("sequence", ["rows", "pixels", "permuted"])
def test_predict_with_a_model_of_any_sequence(sequence, data_dir, tmp_path, capsys):
    fit = ["fit", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(data_dir), *QUICK]
    assert main([*fit, "--data.sequence", sequence, "--test_after_fit", "false"]) == 0
    run = last_run(tmp_path)
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for index in range(3):
        page = np.full((60, 50), 255, dtype=np.uint8)
        page[10 + 5 * index : 40, 15:30] = 0
        Image.fromarray(page).save(pictures / f"{index}.png")
    capsys.readouterr()
    predict = [
        "predict",
        "--config",
        str(run / "config.yaml"),
        "--ckpt_path",
        str(run / "checkpoints" / "last.ckpt"),
    ]
    assert (
        main([*predict, "--data.predict_path", str(pictures), "--trainer.enable_progress_bar", "false"]) == 0
    )
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith(str(pictures))]
    assert [line[0] for line in lines] == [str(pictures / f"{i}.png") for i in range(3)]
    assert all(0 <= int(line[1]) <= 9 for line in lines)


def test_permuted_checkpoint_brings_its_pixel_order(data_dir, tmp_path, capsys):
    fit = ["fit", "--config", str(CONFIGS / "permuted.yaml"), "--data.data_dir", str(data_dir), *QUICK]
    assert main([*fit, "--model.hidden_size", "16", "--test_after_fit", "false"]) == 0  # the order matters
    checkpoint = last_run(tmp_path) / "checkpoints" / "last.ckpt"
    test = ["test", "--config", str(CONFIGS / "permuted.yaml"), "--data.data_dir", str(data_dir)]
    test += ["--ckpt_path", str(checkpoint), "--trainer.enable_progress_bar", "false"]
    capsys.readouterr()
    assert main(test) == 0
    same = capsys.readouterr()
    assert "its own pixel order" not in same.err
    assert main([*test, "--data.permutation_seed", "7"]) == 0  # a config naming another order
    other = capsys.readouterr()
    assert "Reading images as the checkpoint was trained" in other.err

    def accuracy(out):
        return next(line.split()[2] for line in out.splitlines() if line.startswith("Testing Accuracy: "))

    assert accuracy(same.out) == accuracy(other.out)  # the checkpoint's permutation was used both times


def cosine_schedule(data_dir, *extra: str, config: str = "tuned.yaml"):
    """The scheduler entry the CLI gives the model for `config` with `extra` options."""
    from rnn_lightning.cli.lightning_cli import build_cli

    arguments = ["--config", str(CONFIGS / config), "--data.data_dir", str(data_dir), *extra]
    entry = build_cli(arguments, run=False).model.configure_optimizers()
    return (
        (entry["lr_scheduler"]["scheduler"], entry["lr_scheduler"]["interval"])
        if isinstance(entry, dict)
        else (entry[1][0], "epoch")
    )


@pytest.mark.parametrize("config", ["tuned.yaml", "fashion.yaml", "pixels.yaml", "permuted.yaml"])
def test_a_cosine_schedule_without_t_max_spans_the_run(config, data_dir):
    scheduler, interval = cosine_schedule(data_dir, "--trainer.max_epochs", "7", config=config)
    assert (scheduler.T_max, interval) == (7, "epoch")


def test_a_cosine_schedule_over_steps_alone_steps_every_step_and_an_explicit_t_max_is_kept(data_dir):
    steps_only = ["--trainer.max_epochs", "null", "--trainer.max_steps", "90"]
    scheduler, interval = cosine_schedule(data_dir, *steps_only)
    assert (scheduler.T_max, interval) == (90, "step")
    scheduler, interval = cosine_schedule(data_dir, "--lr_scheduler.init_args.T_max", "3")
    assert (scheduler.T_max, interval) == (3, "epoch")
    scheduler, interval = cosine_schedule(data_dir, *steps_only, "--lr_scheduler.init_args.T_max", "40")
    assert (scheduler.T_max, interval) == (40, "step")


def test_a_cosine_schedule_with_nothing_to_span_is_one_line(data_dir, capsys):
    args = ["fit", "--config", str(CONFIGS / "tuned.yaml"), "--data.data_dir", str(data_dir), *QUICK]
    assert main([*args, "--trainer.max_epochs", "null", "--trainer.max_steps", "-1"]) == 2
    error = capsys.readouterr().err.strip()
    assert "CosineAnnealingLR needs T_max" in error and "\n" not in error
