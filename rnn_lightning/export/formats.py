"""The files `export` writes from one `torch.export` trace of the graph: ONNX, for ONNX Runtime on any
platform and in browsers, and the exported program itself (.pt2), which PyTorch points C++ users to
(through AOTInductor) and mobile ones (through ExecuTorch) now that TorchScript is deprecated."""

import io
import json
import warnings
from importlib.util import find_spec

import torch

from rnn_lightning.errors import UserInputError
from rnn_lightning.export.graph import ExportedReader

OPSET = 18  # the oldest opset the exporter writes; ONNX Runtime reads it since 1.14, ONNX Runtime Web too
METADATA_FILE = "rnn_lightning.json"  # the metadata inside a .pt2 archive (torch.export.save's extra files)
FLAT_WEIGHTS = r"The tensor attributes self\.network\.rnn\._flat_weights"
"""torch.export warns of every recurrent module: the RNN refreshes its own list of weight references as it
runs; the weights themselves are the module's parameters, exported as such (the tests compare answers)."""


def check_exporter(format: str) -> None:
    """ONNX needs two packages beyond the project's own: one clear line if either is missing."""
    missing = [name for name in ("onnx", "onnxscript") if format == "onnx" and find_spec(name) is None]
    if missing:
        raise UserInputError(
            f"--format onnx needs {' and '.join(missing)}: pip install 'rnn-lightning[export]'"
        )


def trace(graph: ExportedReader, dtype: str) -> torch.export.ExportedProgram:
    """The graph as an exported program, its batch size free (from 1 up)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=FLAT_WEIGHTS, category=UserWarning)
        return torch.export.export(
            graph.eval(), (graph.example(dtype),), dynamic_shapes=({0: torch.export.Dim("batch", min=1)},)
        )


def onnx_bytes(program: torch.export.ExportedProgram, output_names: list[str], metadata: dict) -> bytes:
    """The ONNX model, checked by `onnx.checker` (types and shapes included), its metadata in
    `metadata_props`."""
    import onnx

    from rnn_lightning.export.onnx_rnn import TRANSLATIONS

    exported = torch.onnx.export(
        program,
        input_names=["images"],
        output_names=output_names,
        opset_version=OPSET,
        dynamo=True,
        verbose=False,
        custom_translation_table=TRANSLATIONS,  # the plain RNN as one ONNX operator (onnx_rnn.py)
    )
    exported.rename_axes({exported.model.graph.inputs[0].shape[0]: "batch"})  # not the tracer's "s34"
    model = exported.model_proto
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    model.doc_string = metadata["model"]
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


def pt2_bytes(program: torch.export.ExportedProgram, metadata: dict) -> bytes:
    """The exported program as `torch.export.save` writes it, the metadata as a JSON file inside."""
    buffer = io.BytesIO()
    torch.export.save(program, buffer, extra_files={METADATA_FILE: json.dumps(metadata)})
    return buffer.getvalue()
