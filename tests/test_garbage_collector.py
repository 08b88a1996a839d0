"""Start-up: the package imports its heavy parts on first use, and a command runs its start-up with the
garbage collector paused, then resumes it with start-up's objects frozen."""

import gc
import json
import subprocess
import sys

import pytest

from rnn_lightning.cli.garbage_collector import resume_collection
from tests.conftest import CONFIGS, make_fake_mnist, run_cli

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
    run_cli(
        "fit", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(data),
        "--trainer.max_steps", "1", "--trainer.limit_val_batches", "1", "--test_after_fit", "false",
        "--trainer.enable_progress_bar", "false", "--trainer.callbacks+=gc_probe.GcProbe", cwd=tmp_path,
    )  # fmt: skip
    state = json.loads((tmp_path / "gc_state.json").read_text())
    assert state["enabled"]
    assert state["frozen"] > 100_000  # PyTorch's, Lightning's and the run's own objects at start-up


def test_resuming_does_nothing_where_start_up_did_not_pause_the_collector():
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    resume_collection()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
