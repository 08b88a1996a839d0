"""Tests of rnn_lightning/cli/: the command line as a user types it, what it says and its errors."""
