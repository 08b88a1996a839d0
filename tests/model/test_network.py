"""The plain network and the TensorFlow tutorial's initialisation."""

import math

import pytest
import torch

from rnn_lightning.model.network import RecurrentNetwork


def test_tf_initialisation_matches_the_tutorial():
    torch.manual_seed(0)
    network = RecurrentNetwork(input_size=28, hidden_size=128, init="tf")
    limit = math.sqrt(6 / (28 + 128 + 4 * 128))
    for weight in (network.rnn.weight_ih_l0, network.rnn.weight_hh_l0):
        assert weight.abs().max() <= limit
        assert weight.abs().max() > 0.95 * limit  # uniform over the whole range, not a narrower one
    bias = network.rnn.bias_ih_l0 + network.rnn.bias_hh_l0
    hidden = 128
    assert torch.all(bias[hidden : 2 * hidden] == 1.0)  # the forget gate, second in PyTorch's i, f, g, o
    assert torch.all(bias[:hidden] == 0) and torch.all(bias[2 * hidden :] == 0)
    head = torch.cat([network.head.weight.flatten(), network.head.bias])
    assert (
        abs(head.mean().item()) < 0.1 and 0.9 < head.std().item() < 1.1
    )  # N(0, 1), not PyTorch's U(+-1/sqrt(128))


def test_torch_initialisation_keeps_pytorch_defaults():
    torch.manual_seed(0)
    network = RecurrentNetwork(init="torch")
    bound = 1 / math.sqrt(128)
    assert network.head.weight.abs().max() <= bound
    assert not torch.all(network.rnn.bias_ih_l0[128:256] == 1.0)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, True)])
def test_orthogonal_initialisation_makes_every_gates_recurrent_matrix_orthogonal(
    cell, num_layers, bidirectional
):
    torch.manual_seed(0)
    network = RecurrentNetwork(
        hidden_size=32, cell=cell, num_layers=num_layers, bidirectional=bidirectional, init="orthogonal"
    )
    recurrent = [p for name, p in network.rnn.named_parameters() if name.startswith("weight_hh")]
    assert len(recurrent) == num_layers * (2 if bidirectional else 1)
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    for weight in recurrent:
        blocks = weight.detach().chunk(gates)
        for block in blocks:
            torch.testing.assert_close(block @ block.T, torch.eye(32), atol=1e-5, rtol=0)
        assert not torch.equal(blocks[0], blocks[-1]) or gates == 1  # drawn apart, not one copied
    # Everything else keeps PyTorch's uniform initialisation in +-1/sqrt(hidden).
    bound = 1 / math.sqrt(32)
    for name, parameter in network.rnn.named_parameters():
        if not name.startswith("weight_hh"):
            assert parameter.abs().max() <= bound
    assert network.head.weight.abs().max() <= 1 / math.sqrt(32 * (2 if bidirectional else 1))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, True)])
def test_cells_and_stacks_classify_the_last_step(cell, num_layers, bidirectional):
    network = RecurrentNetwork(
        input_size=1, hidden_size=16, cell=cell, num_layers=num_layers, bidirectional=bidirectional
    )
    logits = network(torch.rand(4, 30, 1))
    assert logits.shape == (4, 10)
    limit = math.sqrt(
        6 / (16 * (2 if bidirectional else 1) + 16 + {"lstm": 4, "gru": 3, "rnn": 1}[cell] * 16)
    )
    if num_layers > 1:
        assert network.rnn.weight_ih_l1.abs().max() <= limit


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("steps", [28, 784])
def test_reading_ends_with_the_forward_answer(cell, steps):
    torch.manual_seed(0)
    network = RecurrentNetwork(input_size=28 if steps == 28 else 1, hidden_size=16, cell=cell, num_layers=2)
    sequences = torch.rand(3, steps, network.rnn.input_size)
    logits, by_point = network.reading(sequences)
    assert by_point.shape == (3, 28, 10)
    torch.testing.assert_close(logits, network(sequences))
    # point k answers from the first k rows only: later rows do not change it
    changed = sequences.clone()
    changed[:, steps // 2 :] = torch.rand_like(changed[:, steps // 2 :])
    _, by_point_changed = network.reading(changed)
    torch.testing.assert_close(by_point_changed[:, :14], by_point[:, :14])
    assert not torch.allclose(by_point_changed[:, 14:], by_point[:, 14:])


def test_a_bidirectional_network_has_no_reading():
    network = RecurrentNetwork(hidden_size=8, bidirectional=True)
    assert not network.reads_in_order
    with pytest.raises(ValueError, match="bidirectional"):
        network.reading(torch.rand(2, 28, 28))
