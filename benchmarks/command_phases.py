"""Where the seconds of one command go: `python -m rnn_lightning ARGS` run in this process, with timers
around its phases.

    python benchmarks/command_phases.py fit --config configs/speedrun.yaml --data.data_dir DATA

Prints the time to import what the command needs, then, when the command ends, the seconds spent in
each phase and how many calls: `Trainer.fit` (training, validations, the performance chart), Lightning's
evaluation loops (every validation and the test pass, the test report's drawing included), the test
report's drawing alone, the performance chart, the test after `fit`, and checkpoint saves. The command
runs as `python -m rnn_lightning` runs it (the collector paused through start-up, the quick exit). The
processor and commit are printed first, the phases (stderr, beside the command's own output) last.
"""

import atexit
import functools
import sys
import time

STARTED = time.perf_counter()

if __name__ == "__main__" and sys.argv[1:2] in (["-h"], ["--help"]):
    print(__doc__.strip())  # this script's help; the command's own: python -m rnn_lightning --help
    sys.exit(0)

from common import print_provenance  # noqa: E402  (the standard library alone: nothing to time)

from rnn_lightning.garbage_collector import pause_collection  # noqa: E402

pause_collection()

import lightning.pytorch as L  # noqa: E402
from lightning.pytorch.loops.evaluation_loop import _EvaluationLoop  # noqa: E402

from rnn_lightning.cli.lightning_cli import RNNLightningCLI  # noqa: E402
from rnn_lightning.cli.main import main as command  # noqa: E402
from rnn_lightning.report.evaluation_report import EvaluationReport  # noqa: E402
from rnn_lightning.training.history import TrainingHistory  # noqa: E402
from rnn_lightning.workarounds.quick_exit import exit_now  # noqa: E402

PHASES: dict[str, list[float]] = {}


def timed(owner: type, name: str, label: str) -> None:
    """Replaces `owner.name` with the same function timed under `label`."""
    function = getattr(owner, name)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            PHASES.setdefault(label, []).append(time.perf_counter() - start)

    setattr(owner, name, wrapper)


def report() -> None:
    print(f"\nwhole command: {time.perf_counter() - STARTED:.2f} s", file=sys.stderr)
    for label, times in PHASES.items():
        print(f"  {label:<44} {sum(times):6.2f} s  ({len(times)} calls)", file=sys.stderr)


def main() -> None:
    print_provenance()
    print(f"imports: {time.perf_counter() - STARTED:.2f} s", file=sys.stderr)
    timed(L.Trainer, "fit", "Trainer.fit")
    timed(_EvaluationLoop, "run", "evaluation loops (validations, test)")
    timed(EvaluationReport, "write", "test report: drawing and writing")
    timed(TrainingHistory, "on_fit_end", "performance chart")
    timed(RNNLightningCLI, "after_fit", "test after fit (pass and report)")
    timed(L.Trainer, "save_checkpoint", "checkpoint saves")
    atexit.register(report)
    exit_now(command())  # sys.argv as typed, as `python -m rnn_lightning` reads it


if __name__ == "__main__":
    main()
