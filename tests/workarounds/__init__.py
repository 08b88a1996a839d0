"""Tests of rnn_lightning/workarounds/: each workaround works, and tells when it can go."""
