"""Kept so that run configs saved before 0.2 (`class_path:
rnn_lightning.workarounds.final_step_checkpoint.FinalStepCheckpoint`) still load: the callback now lives
in `rnn_lightning/checkpointing/final_step.py`, its use of Lightning's internals in
`model_checkpoint_saves.py`."""

from rnn_lightning.checkpointing.final_step import FinalStepCheckpoint  # noqa: F401  (re-exported)
