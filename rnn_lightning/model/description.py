"""A trained model in a few words, from its hyper-parameters and its data's: the title of every picture of
a run (`report/`) and the `model` line of an exported file's metadata (`export/`)."""

DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
SEQUENCE_NAMES = {"rows": "rows", "pixels": "pixels (784 steps)", "permuted": "permuted pixels"}


def describe_run(model: dict, data: dict) -> str:
    """`LSTM 128, 1 layer, on MNIST rows` from the model's and the data's hyper-parameters."""
    layers = model.get("num_layers", 1)
    cell = ("bi-" if model.get("bidirectional") else "") + model.get("cell", "lstm").upper()
    sequence = SEQUENCE_NAMES.get(data.get("sequence", "rows"), data.get("sequence"))
    dataset = DATASET_NAMES.get(data.get("dataset", "mnist"), data.get("dataset"))
    return (
        f"{cell} {model.get('hidden_size', 128)}, {layers} layer{'s' * (layers > 1)}, on {dataset} {sequence}"
    )
