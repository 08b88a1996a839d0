"""The plain RNN as ONNX's own `RNN` operator. PyTorch's ONNX exporter (its translations are onnxscript's
torchlib) turns `nn.LSTM` and `nn.GRU` into ONNX's `LSTM` and `GRU`, but has no translation for
`aten::rnn_tanh` and spells the recurrence out step by step instead: 28 copies for rows, 784 for pixels,
a large file that takes long to write. This translation, handed to `torch.onnx.export` through its
documented `custom_translation_table`, writes one `RNN` node per layer, as the torchlib's `aten_gru` does.
Checked with onnxscript 0.7 (torch 2.14); tests/export/test_export.py holds the answers to PyTorch's and
counts the nodes, so it tells when the torchlib's own translation makes this one unneeded."""

from collections.abc import Sequence

import torch
from onnxscript import opset18 as op


def rnn_tanh(input, hx, params: Sequence, has_biases: bool, num_layers: int, dropout: float, train: bool,
             bidirectional: bool, batch_first: bool):  # fmt: skip
    """`aten::rnn_tanh.input`: (output, h_n) as `nn.RNN` returns them, in evaluation (no dropout)."""
    directions = 2 if bidirectional else 1
    per_direction = 4 if has_biases else 2
    sequence = op.Transpose(input, perm=[1, 0, 2]) if batch_first else input  # ONNX: (steps, batch, features)
    finals = []
    for layer in range(num_layers):
        weights, recurrent, biases = [], [], []
        for direction in range(directions):
            first = (layer * directions + direction) * per_direction
            weights.append(op.Unsqueeze(params[first], [0]))  # ONNX: (directions, hidden, inputs)
            recurrent.append(op.Unsqueeze(params[first + 1], [0]))
            if has_biases:  # ONNX: (directions, 2 x hidden), the input's bias then the recurrent one
                biases.append(op.Unsqueeze(op.Concat(params[first + 2], params[first + 3], axis=0), [0]))
        initial = op.Slice(hx, [layer * directions], [(layer + 1) * directions], axes=[0])
        steps, final = op.RNN(
            sequence,
            op.Concat(*weights, axis=0),
            op.Concat(*recurrent, axis=0),
            op.Concat(*biases, axis=0) if has_biases else None,
            None,
            initial,
            direction="bidirectional" if bidirectional else "forward",
            hidden_size=hx.shape[2],
        )
        # (steps, directions, batch, hidden) -> (steps, batch, directions x hidden), as PyTorch lays it out
        sequence = op.Reshape(op.Transpose(steps, perm=[0, 2, 1, 3]), op.Constant(value_ints=[0, 0, -1]))
        finals.append(final)
    output = op.Transpose(sequence, perm=[1, 0, 2]) if batch_first else sequence
    return output, op.Concat(*finals, axis=0) if len(finals) > 1 else finals[0]


TRANSLATIONS = {torch.ops.aten.rnn_tanh.input: rnn_tanh}
