"""Tests of rnn_lightning/report/: what a test pass leaves, its pictures and their numbers."""
