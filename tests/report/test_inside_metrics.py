"""The test report's inside states equal a direct computation over all images at once."""

import pytest
import torch

from rnn_lightning.model.network import RecurrentNetwork
from rnn_lightning.model.reading import read
from rnn_lightning.report.inside_metrics import GatesByRow, MemoryByDigit


@pytest.mark.parametrize(
    ("cell", "names"), [("lstm", ["input", "forget", "cell", "output"]), ("gru", ["reset", "update", "new"])]
)
def test_batches_summed_give_the_mean_and_spread_of_all_images(cell, names):
    torch.manual_seed(0)
    network = RecurrentNetwork(28, 5, cell=cell, num_layers=2).eval()
    sequences, labels = torch.rand(30, 28, 28), torch.arange(30) % 10
    gates, memory = GatesByRow(cell, 2), MemoryByDigit(10, 5)
    for part in range(3):  # three batches, as a test pass sees them
        rows = slice(part * 10, (part + 1) * 10)
        inside = read(network, sequences[rows], inside=True).inside
        gates.update(inside)
        memory.update(inside, labels[rows])
    whole = read(network, sequences, inside=True).inside
    result = gates.compute()
    assert list(gates.names) == names
    for layer, found in enumerate(whole.layers):
        for index, name in enumerate(names):
            values = found.gates[name].double()
            # each image's units are summed in float32 first: within half the CSV's last decimal (1e-6)
            exact = {"atol": 5e-7, "rtol": 0}
            torch.testing.assert_close(result["mean"][layer, index], values.mean((0, 2)), **exact)
            torch.testing.assert_close(result["std"][layer, index], values.std((0, 2), correction=0), **exact)
    final = whole.layers[-1].hidden[:, -1].double()
    means = memory.compute()
    for digit in range(10):
        torch.testing.assert_close(means["mean"][digit], final[labels == digit].mean(0))
    assert means["images"].tolist() == [3.0] * 10


def test_a_plain_rnn_has_no_gates_to_gather():
    with pytest.raises(ValueError, match="no gates"):
        GatesByRow("rnn", 1)
