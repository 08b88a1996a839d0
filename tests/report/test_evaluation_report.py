"""What a test pass leaves besides its accuracy: the pictures, their CSVs and TensorBoard tags, with
values that must agree with the test accuracy."""

import csv
import io

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torchmetrics.functional.classification import multiclass_calibration_error
from torchvision.datasets import MNIST

from rnn_lightning.cli.main import main
from rnn_lightning.model.reading import DigitReader
from rnn_lightning.report.metrics import EvaluationInsights, ReliabilityBins, WorstMistakes
from tests.conftest import CONFIGS, make_fake_mnist, validation_batches

FIGURES = ("confusion_matrix", "errors", "accuracy_by_row", "calibration", "gates_by_row", "memory_by_digit")
INSIDE = ("gates_by_row", "memory_by_digit")
QUICK = ["--trainer.max_steps", "60", "--trainer.enable_progress_bar", "false", *validation_batches(1)]
QUICK += ["--optimizer", "torch.optim.Adam", "--optimizer.lr", "0.01"]


def read_events(run):
    images, scalars = {}, {}
    for events in run.glob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events), size_guidance={"images": 0, "scalars": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["images"]:
            images[tag] = accumulator.Images(tag)[-1]
        for tag in accumulator.Tags()["scalars"]:
            scalars[tag] = accumulator.Scalars(tag)[-1].value
    return images, scalars


def read_csv(path):
    with path.open() as file:
        return list(csv.DictReader(file))


@pytest.fixture
def fit(tmp_path, monkeypatch):
    """Fits the default config for a few steps on generated data (200 test images) in tmp_path."""
    monkeypatch.chdir(tmp_path)
    data = make_fake_mnist(tmp_path / "data")

    def run(*extra: str):
        args = ["fit", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(data), *QUICK]
        assert main([*args, *extra]) == 0
        return tmp_path / "lightning_logs" / "version_0"

    return run


def test_a_fit_leaves_every_picture_with_values_that_agree(fit):
    run = fit()
    for name in FIGURES:
        assert (run / f"{name}.png").stat().st_size > 10_000, name
    images, scalars = read_events(run)
    for name in FIGURES:  # TensorBoard shows the very PNG of the run folder
        png = (run / f"{name}.png").read_bytes()
        with Image.open(io.BytesIO(png)) as picture:
            assert (images[f"test/{name}"].width, images[f"test/{name}"].height) == picture.size
        assert images[f"test/{name}"].encoded_image_string == png, name
    accuracy = scalars["test/acc"]
    per_class = read_csv(run / "per_class.csv")
    assert [row["class"] for row in per_class] == [str(digit) for digit in range(10)]
    support = [int(row["support"]) for row in per_class]
    assert sum(support) == 200  # every test image counted once
    # recall is the confusion matrix's diagonal over its rows: weighted by support, the accuracy
    correct = sum(float(row["recall"]) * count for row, count in zip(per_class, support, strict=True))
    assert correct / 200 == pytest.approx(accuracy, abs=1e-6)
    by_row = [float(row["accuracy"]) for row in read_csv(run / "accuracy_by_row.csv")]
    assert len(by_row) == 28
    assert by_row[-1] == pytest.approx(accuracy, abs=1e-6)
    assert by_row[0] < by_row[-1]  # the generated classes are bars at rows 2-21: row 1 cannot tell them
    assert 0 <= scalars["test/ece"] <= 1
    assert_inside_equals_a_direct_computation(
        run, run.parents[1] / "data", ["input", "forget", "cell", "output"]
    )


def assert_inside_equals_a_direct_computation(run, data, gate_names):
    """The two CSVs hold what `read` gives on the run's final weights over all the test images."""
    test = MNIST(str(data), train=False)
    reader = DigitReader(run / "checkpoints" / "last.ckpt")
    found = look_inside_all(reader, test.data)
    rows = read_csv(run / "gates_by_row.csv") if gate_names else []
    assert sorted({row["gate"] for row in rows}) == sorted(gate_names)
    for row in rows:
        layer = found.layers[int(row["layer"]) - 1]
        values = layer.gates[row["gate"]][:, int(row["rows_read"]) - 1].double()
        assert float(row["mean"]) == pytest.approx(float(values.mean()), abs=2e-6), row
        assert float(row["std"]) == pytest.approx(float(values.std(correction=0)), abs=2e-6), row
    assert len(rows) == len(gate_names) * len(found.layers) * 28
    memory = read_csv(run / "memory_by_digit.csv")
    final = found.layers[-1].hidden[:, -1].double().numpy()
    labels = test.targets.numpy()
    assert [int(row["images"]) for row in memory] == np.bincount(labels, minlength=10).tolist()
    for digit, row in enumerate(memory):
        units = [float(row[f"unit_{unit}"]) for unit in range(final.shape[1])]
        np.testing.assert_allclose(units, final[labels == digit].mean(0), atol=2e-6)


def look_inside_all(reader, images):
    return reader.read(images, inside=True).inside


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_gru_and_rnn_report_the_gates_their_cell_has(fit, cell):
    run = fit(
        "--model.cell",
        cell,
        "--model.num_layers",
        "2",
        "--model.hidden_size",
        "8",
        "--trainer.max_steps",
        "5",
    )
    images, _ = read_events(run)
    assert (run / "gates_by_row.png").exists() == (cell == "gru") == ("test/gates_by_row" in images)
    assert "test/memory_by_digit" in images
    gates = ["reset", "update", "new"] if cell == "gru" else []
    assert_inside_equals_a_direct_computation(run, run.parents[1] / "data", gates)


def test_a_bidirectional_model_says_why_it_has_no_accuracy_by_row(fit, capsys):
    run = fit("--model.bidirectional", "true", "--model.hidden_size", "8", "--trainer.max_steps", "5")
    message = "No accuracy by row, gates by row or memory by digit: a bidirectional model"
    assert message in capsys.readouterr().err
    for name in ("accuracy_by_row", *INSIDE):
        assert not (run / f"{name}.csv").exists() and not (run / f"{name}.png").exists()
    for name in ("confusion_matrix", "errors", "calibration"):
        assert (run / f"{name}.png").is_file()


def test_reliability_bins_measure_torchmetrics_calibration_error():
    torch.manual_seed(0)
    logits = torch.randn(500, 10) * 4
    logits[:50, 3] = 60.0  # some answers of confidence exactly 1.0, the edge case of the binning
    labels = torch.randint(0, 10, (500,))
    bins = ReliabilityBins()
    for part in range(5):
        rows = slice(part * 100, (part + 1) * 100)
        bins.update(logits[rows].softmax(-1), labels[rows])
    expected = multiclass_calibration_error(logits, labels, num_classes=10, n_bins=15)
    result = bins.compute()
    assert float(result["ece"]) == pytest.approx(float(expected), abs=1e-6)
    assert result["count"].sum() == 500


def test_a_test_with_a_single_mistake_reports_it_as_one_of_a_list():
    """torchmetrics squeezes a one-element result to 0-d; a held-out folder of 359 with one mistake then
    crashed the report (`len() of a 0-d tensor`)."""
    insights = EvaluationInsights(num_classes=10, reads_in_order=False)
    labels = torch.arange(4)
    logits = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 5]), 10).float() * 5
    insights.update(logits, labels, torch.rand(4, 28, 28), None)
    mistakes = insights.compute().mistakes
    assert [len(mistakes[name]) for name in ("labels", "predicted", "probability", "inputs")] == [1] * 4
    assert mistakes["labels"].tolist() == [3] and mistakes["predicted"].tolist() == [5]


def test_worst_mistakes_are_the_most_confident_wrong_answers_of_all_batches():
    torch.manual_seed(1)
    logits = torch.randn(300, 10) * 3
    labels = torch.randint(0, 10, (300,))
    inputs = torch.rand(300, 28, 28)
    mistakes = WorstMistakes(keep=10)
    for part in range(3):
        rows = slice(part * 100, (part + 1) * 100)
        mistakes.update(logits[rows].softmax(-1), labels[rows], inputs[rows])
    result = mistakes.compute()
    probability, predicted = logits.softmax(-1).max(-1)
    wrong = (predicted != labels).nonzero().squeeze(1)
    expected = wrong[probability[wrong].argsort(descending=True)[:10]]
    assert torch.equal(result["labels"], labels[expected])
    assert torch.equal(result["inputs"], inputs[expected].flatten(1))
    assert torch.all(result["predicted"] != result["labels"])
