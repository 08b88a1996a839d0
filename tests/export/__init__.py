"""Tests of rnn_lightning/export/: `export`, its ONNX and torch.export files."""
