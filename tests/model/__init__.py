"""Tests of rnn_lightning/model/: the network, the LightningModule, what one pass reads."""
