"""Tests of rnn_lightning/checkpointing/: what a fit writes and how checkpoints, old ones too, are read."""
