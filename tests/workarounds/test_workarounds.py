"""Each workaround in `rnn_lightning/workarounds/` still does its job, and a check of the upstream
behaviour it works around: when one of those fails after an upgrade, that workaround can go."""

import copy
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.plugins.precision import MixedPrecision
from lightning.pytorch.profilers import PassThroughProfiler, Profiler
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import CONFIGS, help_text, make_fake_mnist, run_cli, validation_batches


def test_the_quick_exit_keeps_the_exit_code_atexit_handlers_threads_and_output():
    """`exit_now` skips only the interpreter's teardown: what a normal exit does for us still happens."""
    script = (
        "import atexit, threading, time\n"
        "from rnn_lightning.workarounds.quick_exit import exit_now\n"
        "atexit.register(lambda: print('atexit ran', flush=True))\n"
        "threading.Thread(target=lambda: (time.sleep(0.5), print('thread finished'))).start()\n"
        "print('buffered output', end='')\n"
        "exit_now(3)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert result.stdout.index("buffered output") < result.stdout.index("thread finished")
    assert result.stdout.index("thread finished") < result.stdout.index("atexit ran")


@pytest.mark.slow  # three real commands; the quick run keeps the exit's own test above
def test_after_the_quick_exit_every_file_of_fit_test_and_predict_is_complete(tmp_path):
    data = make_fake_mnist(tmp_path / "data")
    common = ["--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(data)]
    common += ["--trainer.enable_progress_bar", "false"]
    run_cli("fit", *common, "--trainer.max_steps", "60", *validation_batches(2), cwd=tmp_path)
    checkpoint = tmp_path / "lightning_logs/version_0/checkpoints/last.ckpt"
    run_cli("test", *common, "--ckpt_path", str(checkpoint), cwd=tmp_path)
    Image.fromarray(np.full((40, 40), 255, np.uint8)).save(tmp_path / "blank.png")
    run_cli(
        "predict",
        *common,
        "--ckpt_path",
        str(checkpoint),
        "--data.predict_path",
        str(tmp_path / "blank.png"),
        cwd=tmp_path,
    )
    runs = sorted((tmp_path / "lightning_logs").glob("version_*"))
    assert len(runs) == 3  # fit, test, predict
    for path in (tmp_path / "lightning_logs").rglob("*.ckpt"):
        assert torch.load(path, weights_only=True)["global_step"] > 0
    for path in (tmp_path / "lightning_logs").rglob("*.csv"):
        text = path.read_text()
        assert text.endswith("\n") and len(text.splitlines()) > 1, path
    for path in (tmp_path / "lightning_logs").rglob("*.png"):
        with Image.open(path) as image:
            image.load()
    tags = set()
    for path in (tmp_path / "lightning_logs").rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(path), size_guidance={"images": 0, "scalars": 0})
        accumulator.Reload()
        tags |= {*accumulator.Tags()["scalars"], *accumulator.Tags()["images"]}
    assert {
        "train/loss",
        "val/acc",
        "performance",
        "test/acc",
        "test/confusion_matrix",
        "test/errors",
    } <= tags
    assert (runs[2] / "predictions.csv").read_text().splitlines()[-1].startswith(str(tmp_path / "blank.png"))


class RecordsItsHookName(LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.seen: list[str] = []

    def training_step(self, batch, batch_idx):
        self.seen.append(getattr(self, "_current_fx_name", None))
        return self.layer(batch).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_lightning_still_sets_the_hook_name_on_the_module_at_every_hook():
    model = RecordsItsHookName()
    trainer = Trainer(
        max_steps=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, torch.utils.data.DataLoader(torch.ones(4, 2), batch_size=2))
    assert model.seen == ["training_step", "training_step"]


def test_lightning_still_refuses_to_clip_a_fused_optimizer_under_bf16():
    layer = torch.nn.Linear(2, 1)
    layer(torch.ones(1, 2)).sum().backward()
    optimizer = torch.optim.AdamW(layer.parameters(), fused=True)
    with pytest.raises(Exception, match=r"(?i)clip"):
        MixedPrecision("bf16-mixed", "cpu").clip_gradients(optimizer, 1.0)


def test_the_fused_bf16_clipping_clips_as_full_precision_does():
    from rnn_lightning.workarounds.fused_bf16_clipping import clip_bf16_gradients

    layers = [torch.nn.Linear(4, 1) for _ in range(2)]
    for layer in layers:
        torch.manual_seed(0)
        torch.nn.init.normal_(layer.weight)
        layer(torch.full((1, 4), 10.0)).sum().backward()
    clipped = clip_bf16_gradients(
        MixedPrecision("bf16-mixed", "cpu"), torch.optim.AdamW(layers[0].parameters(), fused=True), 0.5, None
    )
    torch.nn.utils.clip_grad_norm_(layers[1].parameters(), 0.5)
    assert clipped and torch.equal(layers[0].weight.grad, layers[1].weight.grad)
    assert not clip_bf16_gradients(MixedPrecision("16-mixed", "cpu"), None, 0.5, None)  # fp16: a scaler


def test_lightning_still_lists_subcommands_through_its_private_parser_parts():
    assert callable(getattr(LightningCLI, "_add_subcommands", None))
    text = help_text()
    assert "Train a model" in text and "serve" in text  # ours, not the Trainer's lines


def test_ckpt_path_help_says_what_last_means_here_not_lightnings_keywords():
    for subcommand in ("fit", "test", "predict", "serve", "export"):  # one meaning of `last` for all
        text = " ".join(help_text(subcommand).split())
        ckpt_help = text[text.rindex("--ckpt_path CKPT_PATH ") :][:300]  # the option, not the usage line
        assert "'last': the newest run's checkpoints/last.ckpt in the logger's folder" in ckpt_help
        assert "hpc" not in ckpt_help and "registry" not in ckpt_help  # Lightning's own words gone


def test_lightnings_profiler_teardown_still_fails_on_an_uninitialised_copy():
    from rnn_lightning.workarounds.null_profiler import NullProfiler

    blank = PassThroughProfiler.__new__(PassThroughProfiler)
    with pytest.raises(AttributeError):
        Profiler.__del__(blank)
    blank.__dict__.update(vars(PassThroughProfiler()))  # so that its own collection later passes
    copy.copy(NullProfiler.__new__(NullProfiler)).__del__()  # ours: nothing to tear down


@pytest.mark.skipif(
    not torch.backends.cuda.is_built() or torch.cuda.device_count() > 0, reason="needs no GPU"
)
def test_without_a_gpu_pytorch_still_asks_nvml_anew_at_every_cuda_check(monkeypatch):
    monkeypatch.setenv("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    assert not torch.cuda.is_available()
    assert torch.cuda._cached_device_count is None  # no answer kept: the next call loads NVML again


def test_model_checkpoint_still_has_the_private_saves_the_final_step_checkpoint_calls():
    """When one goes, `workarounds/model_checkpoint_saves.py` must be rewritten on what replaced it."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    from rnn_lightning.workarounds.model_checkpoint_saves import PRIVATE_NAMES

    callback = ModelCheckpoint()
    assert [name for name in PRIVATE_NAMES if not hasattr(callback, name)] == []


@pytest.mark.parametrize(
    "old",
    [
        "rnn_lightning.profiling.NullProfiler",
        "rnn_lightning.TrainingHistory",
        "rnn_lightning.StopOnNonFiniteLoss",
        "rnn_lightning.FinalStepCheckpoint",
        "rnn_lightning.workarounds.final_step_checkpoint.FinalStepCheckpoint",
    ],
)
def test_class_paths_in_run_configs_of_earlier_versions_still_load(old, tmp_path):
    """A run config of an earlier version names the class by its old path: the CLI reads that path (not
    today's default), renamed by `cli/renamed_paths.py`'s table where the class moved, and builds today's
    class from it. The profiler is set to another class before the file is read, so that the file's value
    is the only way to get a NullProfiler."""
    import importlib

    from rnn_lightning.cli.lightning_cli import build_cli
    from rnn_lightning.cli.renamed_paths import RENAMED

    config = tmp_path / "config.yaml"
    key = "profiler" if "profiling" in old else "callbacks"
    value = {"class_path": old}
    config.write_text(
        __import__("yaml").safe_dump({"trainer": {key: value if key == "profiler" else [value]}})
    )
    before = ["--trainer.profiler", "SimpleProfiler"] if key == "profiler" else []
    args = ["--config", str(CONFIGS / "default.yaml"), *before, "--config", str(config)]
    cli = build_cli(args, run=False)
    today = RENAMED.get(old, old)
    module, name = today.rsplit(".", 1)
    current = getattr(importlib.import_module(module), name)
    if key == "profiler":
        assert cli.config["trainer"]["profiler"]["class_path"] == today  # the file's, renamed
        assert type(cli.trainer.profiler) is current
    else:
        assert today in [callback["class_path"] for callback in cli.config["trainer"]["callbacks"]]
        assert any(type(callback) is current for callback in cli.trainer.callbacks)


def test_argparse_still_keeps_every_option_string_where_the_suggestions_read_them():
    from rnn_lightning.workarounds.option_suggestions import SuggestingArgumentParser

    parser = SuggestingArgumentParser(exit_on_error=False, allow_abbrev=False)
    parser.add_argument("--max_steps", type=int)
    assert "--max_steps" in parser._option_string_actions
    with pytest.raises(Exception, match=r"did you mean --max_steps\?"):
        parser.parse_args(["--max_step", "3"])


AS_AN_AVX2_CPU = {"ONEDNN_MAX_CPU_ISA": "AVX2"}  # oneDNN acts as a CPU without AVX-512 (emulated above it)
LSTM_UNDER_BF16 = (
    "import torch\n"
    "from rnn_lightning.workarounds.onednn_lstm_autocast import run_recurrent\n"
    "torch.manual_seed(0)\n"
    "lstm, sequences = torch.nn.LSTM(28, 16, batch_first=True), torch.rand(4, 28, 28)\n"
    "with torch.autocast('cpu', dtype=torch.bfloat16):\n"
    "    outputs, _ = {call}\n"
    "outputs.float().sum().backward()\n"
    "with torch.autocast('cpu', enabled=False):\n"
    "    expected, _ = lstm(sequences)\n"
    "finite = lstm.weight_hh_l0.grad.isfinite().all().item()\n"
    "print(outputs.dtype, torch.allclose(outputs, expected), finite)\n"
)


def run_as_an_avx2_cpu(code: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **AS_AN_AVX2_CPU, "PYTHONPATH": str(CONFIGS.parent)}
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)


x86_only = pytest.mark.skipif(
    torch.cpu.get_capabilities().get("architecture") != "x86_64", reason="ONEDNN_MAX_CPU_ISA names x86 ISAs"
)


@x86_only
def test_pytorch_still_sends_a_bf16_autocast_lstm_to_a_onednn_kernel_an_avx2_cpu_lacks():
    """pytorch/pytorch#88136: when this runs, `workarounds/onednn_lstm_autocast.py` can go."""
    result = run_as_an_avx2_cpu(LSTM_UNDER_BF16.format(call="lstm(sequences)"))
    assert result.returncode != 0
    assert "could not create a primitive descriptor for the LSTM forward propagation" in result.stderr


@x86_only
def test_the_lstm_under_bf16_autocast_trains_in_fp32_on_such_a_cpu():
    result = run_as_an_avx2_cpu(LSTM_UNDER_BF16.format(call="run_recurrent(lstm, sequences)"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["torch.float32", "True", "True"]


def test_the_probe_leaves_the_seeded_random_stream_as_it_was():
    from rnn_lightning.workarounds.onednn_lstm_autocast import onednn_runs_lstm_in

    onednn_runs_lstm_in.cache_clear()
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    onednn_runs_lstm_in(torch.bfloat16)
    assert torch.equal(torch.rand(3), expected)


def test_lightnings_checkpoint_still_writes_last_under_fast_dev_run(tmp_path, monkeypatch):
    """Lightning 2.6.6's `ModelCheckpoint.on_train_end` writes last.ckpt under `fast_dev_run`, which its
    docs say disables checkpointing; `FinalStepCheckpoint.on_train_end` skips it then. When this fails,
    Lightning has fixed it and that guard can go (tests/checkpointing: no checkpoint either way)."""
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.demos.boring_classes import BoringModel

    monkeypatch.chdir(tmp_path)
    saving = ModelCheckpoint(save_last=True)
    trainer = Trainer(fast_dev_run=True, callbacks=[saving], logger=False, enable_progress_bar=False)
    trainer.fit(BoringModel())
    assert (tmp_path / "checkpoints" / "last.ckpt").exists()
