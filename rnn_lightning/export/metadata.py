"""What an exported file says about itself, so that a user of the file alone knows what to feed it and how
to read its answer: the classes, the sequence kind (and permutation), the input and the preprocessing."""

import json

from rnn_lightning.data.datamodule import DATASETS, class_names
from rnn_lightning.export.graph import ExportedReader
from rnn_lightning.model.description import describe_run
from rnn_lightning.model.reading import DigitReader

PREPROCESSING = (
    "images in MNIST's form: grayscale, light ink on black, the digit fitted into a 20x20 box (aspect kept) "
    "and centred by its centre of mass in the 28x28 field; any photo or drawing becomes one through "
    "rnn_lightning.data.image_files.to_mnist_form, as `predict` and `serve` read files"
)


def metadata(reader: DigitReader, graph: ExportedReader, dtype: str) -> dict[str, str]:
    """The file's metadata, every value a string (ONNX's metadata_props hold strings; lists are JSON)."""
    data = reader.data_hparams
    classes = class_names(DATASETS.get(data.get("dataset", "mnist")), graph.network.head.out_features)
    steps = (
        "steps: float32 (batch, 28, classes), the probabilities after each row read (each 28 pixels)"
        if graph.network.reads_in_order
        else "no steps: a bidirectional model reads all rows from both ends before it answers"
    )
    permutation = reader.to_sequence.permutation
    return {
        "model": describe_run(reader.hparams, data),
        "classes": json.dumps(classes),
        "sequence": reader.to_sequence.kind,
        **({} if permutation is None else {"permutation": json.dumps(permutation.tolist())}),
        "input": f"images: {dtype} (batch, 28, 28), pixel values 0-255",
        "outputs": f"probabilities: float32 (batch, classes), softmax of the logits; {steps}",
        "preprocessing": PREPROCESSING,
        "producer": "python -m rnn_lightning export",
    }
