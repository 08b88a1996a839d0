"""Tests of rnn_lightning/training/ and configs/: fits, resuming, precision, fine-tuning, DDP."""
