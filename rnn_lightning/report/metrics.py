"""What a test pass gathers besides its accuracy: confusions, per-class scores, accuracy by row, the
reliability bins, the most confident mistakes, the gates by row and the memory by digit, all torchmetrics
states, so DDP counts each image once.

Everything is updated from the test step's own outputs (one pass over the test set); the pictures are
drawn from `EvaluationInsights.compute()` by `rnn_lightning.report.evaluation_report.EvaluationReport`.
"""

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import (
    MulticlassConfusionMatrix,
    MulticlassF1Score,
    MulticlassPrecision,
    MulticlassRecall,
)
from typing_extensions import override

from rnn_lightning.model.inside import GATE_NAMES, Inside
from rnn_lightning.model.network import READING_POINTS
from rnn_lightning.report.inside_metrics import GatesByRow, MemoryByDigit

CALIBRATION_BINS = 15  # torchmetrics' default for the expected calibration error
MISTAKES_SHOWN = 24


class AccuracyByRow(Metric):
    """Accuracy of the answer read off after each of `points` reading points (rows read so far)."""

    full_state_update = False

    def __init__(self, points: int = READING_POINTS, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("correct", torch.zeros(points, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    @override
    def update(self, logits_by_point: Tensor, labels: Tensor) -> None:
        """`logits_by_point`: (batch, points, classes)."""
        self.correct += (logits_by_point.argmax(-1) == labels[:, None]).sum(0)
        self.total += len(labels)

    @override
    def compute(self) -> Tensor:
        return self.correct.double() / self.total.clamp(min=1)


class ReliabilityBins(Metric):
    """Per confidence bin: how many answers, their mean confidence and their accuracy, for the
    reliability diagram. Binned exactly as torchmetrics' calibration error bins (`[low, high)`, with a
    last bin of its own for a confidence of exactly 1.0), so the diagram shows what `test/ece` measured.
    """

    full_state_update = False

    def __init__(self, bins: int = CALIBRATION_BINS, **kwargs) -> None:
        super().__init__(**kwargs)
        self.register_buffer("edges", torch.linspace(0, 1, bins + 1), persistent=False)
        for name in ("count", "confidence", "correct"):
            self.add_state(name, torch.zeros(bins + 1, dtype=torch.float64), dist_reduce_fx="sum")

    @override
    def update(self, probabilities: Tensor, labels: Tensor) -> None:
        confidence, predicted = probabilities.max(-1)
        index = torch.bucketize(confidence, self.edges, right=True) - 1
        self.count.index_add_(0, index, torch.ones_like(confidence, dtype=torch.float64))
        self.confidence.index_add_(0, index, confidence.double())
        self.correct.index_add_(0, index, (predicted == labels).double())

    @override
    def compute(self) -> dict[str, Tensor]:
        seen = self.count.clamp(min=1)
        accuracy, confidence = self.correct / seen, self.confidence / seen
        share = self.count / self.count.sum().clamp(min=1)
        return {
            "edges": self.edges,
            "count": self.count,
            "accuracy": accuracy,
            "confidence": confidence,
            "ece": (share * (accuracy - confidence).abs()).sum(),
        }


class WorstMistakes(Metric):
    """The `keep` most confidently wrong answers: their inputs, labels, answers and probabilities.

    Each batch keeps only its own `keep` worst, so the state stays small; under DDP the candidates of
    every process are gathered before the final choice.
    """

    full_state_update = False

    def __init__(self, keep: int = MISTAKES_SHOWN, **kwargs) -> None:
        super().__init__(**kwargs)
        self.keep = keep
        for name in ("inputs", "labels", "predicted", "probability"):
            self.add_state(name, [], dist_reduce_fx="cat")

    @override
    def update(self, probabilities: Tensor, labels: Tensor, inputs: Tensor) -> None:
        probability, predicted = probabilities.max(-1)
        wrong = (predicted != labels).nonzero().squeeze(1)
        worst = wrong[probability[wrong].argsort(descending=True)[: self.keep]]
        self.inputs.append(inputs[worst].flatten(1).float())
        self.labels.append(labels[worst])
        self.predicted.append(predicted[worst])
        self.probability.append(probability[worst])

    @override
    def compute(self) -> dict[str, Tensor]:
        states = {name: getattr(self, name) for name in ("inputs", "labels", "predicted", "probability")}
        states = {name: torch.cat(v) if isinstance(v, list) else v for name, v in states.items()}
        if not len(states["labels"]):
            return states
        # the most confident first; equal probabilities keep the order they were seen in
        order = states["probability"].argsort(descending=True, stable=True)[: self.keep]
        return {name: value[order] for name, value in states.items()}


@dataclass
class Insights:
    """What `EvaluationInsights.compute()` found over the whole test split."""

    confusion: Tensor  # (classes, classes) counts, rows the true class
    per_class: dict[str, Tensor]  # precision, recall, f1: (classes,)
    reliability: dict[str, Tensor]
    mistakes: dict[str, Tensor]
    accuracy_by_point: Tensor | None  # (points,), None for a bidirectional model
    gates: dict[str, Tensor] | None = None  # mean, std: (layers, gates, points); None: bidirectional, RNN
    gate_names: tuple[str, ...] = ()
    memory: dict[str, Tensor] | None = None  # mean (classes, units), images (classes,); None: bidirectional


class EvaluationInsights(nn.Module):
    """The test pass's extra metrics, one object per picture; `update` takes the test step's outputs."""

    def __init__(
        self,
        num_classes: int,
        reads_in_order: bool,
        cell: str = "lstm",
        num_layers: int = 1,
        units: int = 128,
    ) -> None:
        super().__init__()
        # The inputs are the model's own answers and the data's labels, valid by construction: skip
        # torchmetrics' checks of every batch's values.
        checks = {"validate_args": False}
        self.confusion = MulticlassConfusionMatrix(num_classes, **checks)
        self.per_class = MetricCollection(
            {
                "precision": MulticlassPrecision(num_classes, average=None, **checks),
                "recall": MulticlassRecall(num_classes, average=None, **checks),
                "f1": MulticlassF1Score(num_classes, average=None, **checks),
            },
            compute_groups=True,  # the three share one set of counts
        )
        self.reliability = ReliabilityBins()
        self.mistakes = WorstMistakes()
        self.by_point = AccuracyByRow() if reads_in_order else None
        # Inside the network, row by row: a bidirectional one has no reading in order, a plain RNN no gates.
        self.gates = GatesByRow(cell, num_layers) if reads_in_order and GATE_NAMES[cell] else None
        self.memory = MemoryByDigit(num_classes, units) if reads_in_order else None

    @torch.no_grad()
    def update(
        self,
        logits: Tensor,
        labels: Tensor,
        inputs: Tensor,
        logits_by_point: Tensor | None,
        inside: Inside | None = None,
    ) -> None:
        """`inside`: the same pass's `Reading.inside`, for the gates and the memory (None: skipped)."""
        predicted = logits.argmax(-1)
        probabilities = logits.float().softmax(-1)
        self.confusion.update(predicted, labels)
        self.per_class.update(predicted, labels)
        self.reliability.update(probabilities, labels)
        self.mistakes.update(probabilities, labels, inputs)
        if self.by_point is not None and logits_by_point is not None:
            self.by_point.update(logits_by_point, labels)
        if inside is not None:
            if self.gates is not None:
                self.gates.update(inside)
            if self.memory is not None:
                self.memory.update(inside, labels)

    def compute(self) -> Insights:
        """Synced over all processes: call it on every rank."""
        return Insights(
            confusion=self.confusion.compute(),
            per_class=self.per_class.compute(),
            reliability=self.reliability.compute(),
            # torchmetrics squeezes a one-element result to 0-d: one mistake must stay a list of one
            mistakes={
                name: v.reshape(1) if v.dim() == 0 else v for name, v in self.mistakes.compute().items()
            },
            accuracy_by_point=None if self.by_point is None else self.by_point.compute(),
            gates=None if self.gates is None else self.gates.compute(),
            gate_names=() if self.gates is None else tuple(self.gates.names),
            memory=None if self.memory is None else self.memory.compute(),
        )

    def reset(self) -> None:
        metrics = (self.confusion, self.per_class, self.reliability, self.mistakes, self.by_point)
        for metric in (*metrics, self.gates, self.memory):
            if metric is not None:
                metric.reset()
