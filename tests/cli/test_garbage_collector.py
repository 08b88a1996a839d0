"""Start-up: the package imports its heavy parts on first use (serve and export never import Lightning),
and a command runs its start-up with the garbage collector paused, then resumes it with start-up's
objects frozen."""

import json
import subprocess
import sys

import pytest

from tests.conftest import fit_args, make_fake_mnist, run_cli, validation_batches

PROBE = '''
import gc, json
from lightning.pytorch.callbacks import Callback

class GcProbe(Callback):
    """Writes down the collector's state when training starts."""
    def on_fit_start(self, trainer, pl_module):
        with open("gc_state.json", "w") as file:
            json.dump({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}, file)
'''


def test_importing_the_package_loads_neither_pytorch_nor_lightning_until_a_class_is_used():
    script = (
        "import sys, rnn_lightning\n"
        "print('torch' in sys.modules, 'lightning' in sys.modules)\n"
        "rnn_lightning.TrainingHistory\n"
        "print('lightning' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "False", "True"], result.stderr
    import rnn_lightning

    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        rnn_lightning.Nothing  # noqa: B018
    from rnn_lightning.training.history import TrainingHistory

    assert rnn_lightning.TrainingHistory is TrainingHistory  # the class itself, from its own module


def test_a_command_trains_with_the_collector_on_and_its_start_up_frozen(tmp_path):
    (tmp_path / "gc_probe.py").write_text(PROBE)  # `python -m` runs with the working folder on sys.path
    data = make_fake_mnist(tmp_path / "data")
    probe = [
        "--trainer.max_steps",
        "1",
        *validation_batches(1),
        "--trainer.callbacks+=gc_probe.GcProbe",
    ]
    run_cli(*fit_args(data, *probe), cwd=tmp_path)
    state = json.loads((tmp_path / "gc_state.json").read_text())
    assert state["enabled"]
    assert state["frozen"] > 100_000  # PyTorch's, Lightning's and the run's own objects at start-up


def test_serve_and_export_start_and_answer_without_importing_lightning(tmp_path):
    """Neither is a Trainer command: Lightning's import (seconds) stays out of a server's start-up."""
    from tests.export.test_export import handmade_checkpoint

    checkpoint = handmade_checkpoint(tmp_path / "model.ckpt", hidden_size=4)
    script = f"""
import sys
from fastapi.testclient import TestClient
from rnn_lightning.cli.main import main
from rnn_lightning.serving.app import create_app
print(main(["serve", "--ckpt_path", "missing.ckpt"]), main(["export", "--ckpt_path", "missing.ckpt"]))
with TestClient(create_app({str(checkpoint)!r})) as client:
    print(client.post("/predict", json={{"pixels": [[0] * 28] * 28}}).status_code)
print(sorted({{name.split(".")[0] for name in sys.modules}} & {{"lightning", "pytorch_lightning"}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.splitlines() == ["2 2", "200", "[]"], result.stderr[-2000:]
