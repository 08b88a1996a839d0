"""The internals `read` reports are the module's own: its hidden states equal nn.LSTM/GRU/RNN's, from the
pass that gives the answer, and the LSTM's and GRU's update equations hold between what it reports."""

import pytest
import torch
from torch import nn

from rnn_lightning.model.inside import GATE_NAMES
from rnn_lightning.model.network import RecurrentNetwork
from rnn_lightning.model.reading import read

KINDS = {"rows": (28, 28), "pixels": (784, 1)}


def tiny(cell: str, num_layers: int, input_size: int, nonlinearity: str = "tanh") -> RecurrentNetwork:
    torch.manual_seed(num_layers)
    network = RecurrentNetwork(input_size, 6, 10, cell, num_layers, dropout=0.3, init="torch")
    if cell == "rnn" and nonlinearity == "relu":
        relu = nn.RNN(input_size, 6, num_layers, nonlinearity="relu", batch_first=True)
        relu.load_state_dict(network.rnn.state_dict())
        network.rnn = relu
    return network.eval()


def one_layer(network: RecurrentNetwork, layer: int) -> nn.Module:
    """The stack's layer `layer` alone, as a module of its own kind: its outputs at every step."""
    rnn = network.rnn
    kind = type(rnn)
    options = {"nonlinearity": rnn.nonlinearity} if kind is nn.RNN else {}
    single = kind(
        rnn.input_size if layer == 0 else rnn.hidden_size, rnn.hidden_size, batch_first=True, **options
    )
    single.load_state_dict({f"{name[:-1]}0": value for name, value in rnn.state_dict().items()
                            if name.endswith(f"_l{layer}")})  # fmt: skip
    return single


CASES = [(cell, layers, kind) for cell in ("lstm", "gru", "rnn") for layers in (1, 2) for kind in KINDS]


@pytest.mark.parametrize(("cell", "num_layers", "kind"), CASES)
def test_hidden_states_are_the_modules_own(cell, num_layers, kind):
    steps, features = KINDS[kind]
    network = tiny(cell, num_layers, features, "relu" if num_layers == 2 else "tanh")
    sequences = torch.rand(5, steps, features)
    reading = read(network, sequences, inside=True)
    inside = reading.inside
    stride = steps // 28
    assert len(inside.layers) == num_layers and inside.cell == cell and inside.units == 6
    layer_input = sequences
    for layer, found in enumerate(inside.layers):
        outputs, _ = one_layer(network, layer)(layer_input)
        torch.testing.assert_close(found.hidden, outputs[:, stride - 1 :: stride], atol=1e-5, rtol=0)
        assert set(found.gates) == set(GATE_NAMES[cell])
        for gate in found.gates.values():
            assert gate.shape == (5, 28, 6)
        layer_input = outputs
    # the stack's own top output and its own final states
    outputs, state = network.rnn(sequences)
    torch.testing.assert_close(inside.layers[-1].hidden, outputs[:, stride - 1 :: stride], atol=1e-5, rtol=0)
    final_h = state[0] if cell == "lstm" else state
    for layer, found in enumerate(inside.layers):
        torch.testing.assert_close(found.hidden[:, -1], final_h[layer], atol=1e-5, rtol=0)
        if cell == "lstm":
            torch.testing.assert_close(found.cell_state[:, -1], state[1][layer], atol=1e-5, rtol=0)
        else:
            assert found.cell_state is None
    # each unit's vote: their sum and the bias are the answered digit's logit
    logits = network(sequences)
    torch.testing.assert_close(reading.logits, logits, atol=1e-5, rtol=0)  # the answer is this pass's
    assert torch.equal(inside.answer, logits.argmax(-1))
    answered = logits.gather(1, inside.answer[:, None]).squeeze(1)
    torch.testing.assert_close(inside.contribution.sum(1) + network.head.bias[inside.answer], answered,
                               atol=1e-5, rtol=0)  # fmt: skip


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_the_lstm_equations_hold_for_what_is_reported(num_layers, kind):
    steps, features = KINDS[kind]
    network = tiny("lstm", num_layers, features)
    # every step a reading point, so each state's previous one is reported too
    for layer in read(network, torch.rand(3, steps, features), inside=True, points=steps).inside.layers:
        i, f, g, o = (layer.gates[name] for name in GATE_NAMES["lstm"])
        c, h = layer.cell_state, layer.hidden
        torch.testing.assert_close(h, o * c.tanh(), atol=1e-6, rtol=0)
        previous = torch.cat([torch.zeros_like(c[:, :1]), c[:, :-1]], 1)
        torch.testing.assert_close(c, f * previous + i * g, atol=1e-6, rtol=0)
        assert i.min() > 0 and i.max() < 1 and g.min() > -1 and g.max() < 1


def test_the_gru_equation_holds_for_what_is_reported():
    network = tiny("gru", 2, 28)
    for layer in read(network, torch.rand(3, 28, 28), inside=True).inside.layers:
        z, n, h = layer.gates["update"], layer.gates["new"], layer.hidden
        previous = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], 1)
        torch.testing.assert_close(h, (1 - z) * n + z * previous, atol=1e-6, rtol=0)


def test_the_rows_asked_for_get_what_the_whole_batch_would():
    network = tiny("lstm", 2, 28)
    sequences = torch.rand(5, 28, 28)
    whole, some = read(network, sequences, inside=True), read(network, sequences, inside=[3, 0])
    torch.testing.assert_close(some.logits, whole.logits, atol=1e-6, rtol=0)
    assert torch.equal(some.inside.answer, whole.inside.answer[[3, 0]])
    torch.testing.assert_close(some.inside.contribution, whole.inside.contribution[[3, 0]])
    for part, found in zip(some.inside.layers, whole.inside.layers, strict=True):
        torch.testing.assert_close(part.cell_state, found.cell_state[[3, 0]])
        for name, gate in part.gates.items():
            torch.testing.assert_close(gate, found.gates[name][[3, 0]])
    assert read(network, sequences).inside is None and read(network, sequences, inside=[]).inside is None


def test_a_bidirectional_network_has_no_reading_in_order():
    network = RecurrentNetwork(28, 6, bidirectional=True).eval()
    sequences = torch.rand(2, 28, 28)
    reading = read(network, sequences, inside=True)
    assert reading.logits_by_row is None and reading.inside is None
    torch.testing.assert_close(reading.logits, network(sequences))
