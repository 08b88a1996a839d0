"""Tests of rnn_lightning/data/: MNIST as sequences, labelled folders, the user's image files."""
