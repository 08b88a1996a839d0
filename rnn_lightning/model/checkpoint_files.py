"""Kept so that code written before checkpointing had its own package still runs: the functions now live
in `rnn_lightning/checkpointing/files.py`."""

from rnn_lightning.checkpointing.files import (  # noqa: F401  (re-exported)
    check_model_shape,
    latest_last_checkpoint,
    load_checkpoint,
    newest_last_checkpoint,
)
