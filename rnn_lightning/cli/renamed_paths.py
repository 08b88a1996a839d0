"""The classes that moved, in one table, applied where a config is read: a run folder of an earlier version
(its `config.yaml` names the class paths of its day) still tests, resumes and predicts, with no module
kept at the old address to re-export them.

The table is applied by the YAML loader that the CLI's parser reads every `--config` file and value with
(jsonargparse's documented `set_loader`, under the parser mode `PARSER_MODE`). Checkpoints name no class
path: their model and data hyper-parameters are plain values (neither is in subclass mode), and callback
states are keyed by the class's name, not its module, so they load as they are.
"""

from typing import Any

import yaml
from jsonargparse import get_loader, set_loader

RENAMED = {
    # 0.1, before the package was grouped by what it does (the run configs of 367d123^ and earlier)
    "rnn_lightning.profiling.NullProfiler": "rnn_lightning.workarounds.null_profiler.NullProfiler",
    "rnn_lightning.checkpoint.FinalStepCheckpoint": (
        "rnn_lightning.checkpointing.final_step.FinalStepCheckpoint"
    ),
    "rnn_lightning.history.TrainingHistory": "rnn_lightning.training.history.TrainingHistory",
    "rnn_lightning.guard.StopOnNonFiniteLoss": "rnn_lightning.training.divergence.StopOnNonFiniteLoss",
    "rnn_lightning.interrupt.CheckpointOnInterrupt": "rnn_lightning.training.interrupt.CheckpointOnInterrupt",
    "rnn_lightning.predictions.PredictionReport": "rnn_lightning.report.predictions.PredictionReport",
    # 0.2, before checkpointing had its own package (83185e2^ and earlier)
    "rnn_lightning.workarounds.final_step_checkpoint.FinalStepCheckpoint": (
        "rnn_lightning.checkpointing.final_step.FinalStepCheckpoint"
    ),
}
PARSER_MODE = "rnn_lightning"
_YAML = get_loader("yaml")  # jsonargparse's own, which the CLI's parser would use otherwise


def renamed(value: Any) -> Any:
    """`value` with every class path of `RENAMED` replaced by today's, in any nesting of dicts and lists."""
    if isinstance(value, str):
        return RENAMED.get(value, value)
    if isinstance(value, dict):
        return {key: renamed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item) for item in value]
    return value


def load(text: str) -> Any:
    """YAML as jsonargparse's own "yaml" mode loads it, then `renamed`."""
    return renamed(_YAML(text))


set_loader(PARSER_MODE, load, exceptions=(yaml.YAMLError,))
