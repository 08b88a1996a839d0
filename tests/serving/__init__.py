"""Tests of rnn_lightning/serving/: `serve`, its API and contract, the batcher, the page in Chromium."""
