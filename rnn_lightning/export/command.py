"""`python -m rnn_lightning export`: its options and checks, then the checkpoint traced once and written in
the format asked for, whole or not at all."""

import sys
from pathlib import Path

from rnn_lightning.checkpointing.files import CHECKPOINT_OPTION_HELP, checkpoint_path
from rnn_lightning.errors import UserInputError, first_line
from rnn_lightning.workarounds.option_suggestions import SuggestingArgumentParser

HELP = "Write a checkpoint as one file that reads digits: ONNX (no PyTorch needed) or a torch.export program."
FORMAT_NAMES = {"onnx": "ONNX", "pt2": "torch.export program"}  # the formats `formats.py` writes


def build_parser(prog: str) -> SuggestingArgumentParser:
    """The options of `export`; also what `--help` of the main command lists."""
    parser = SuggestingArgumentParser(prog=prog, description=HELP, exit_on_error=False, allow_abbrev=False)
    option = parser.add_argument
    option("--ckpt_path", required=True, help=f"Checkpoint to export: {CHECKPOINT_OPTION_HELP}.")
    option("--output", required=True, help="The file to write, in an existing folder (model.onnx).")
    formats = "onnx (ONNX Runtime: any platform, browsers) or pt2 (torch.export: AOTInductor, ExecuTorch)."
    option("--format", default="onnx", choices=list(FORMAT_NAMES), help=formats)
    dtypes = "What the file takes: uint8 pixels, or float32 ones on the same 0-255 scale."
    option("--input_dtype", default="uint8", choices=["uint8", "float32"], help=dtypes)
    option("--overwrite", action="store_true", help="Replace --output if it exists (it is kept otherwise).")
    return parser


def export(args: list[str], prog: str) -> int:
    """Parses `args`, checks the output and the checkpoint, traces the graph and writes the file; prints
    what was written (stdout) once it is there."""
    options = build_parser(prog).parse_args(args)
    output = Path(options.output)

    from rnn_lightning.export.writing import check_output

    check_output(output, options.overwrite)  # before the work: a refused output costs nothing

    from rnn_lightning.export.formats import check_exporter, onnx_bytes, pt2_bytes, trace
    from rnn_lightning.export.graph import ExportedReader
    from rnn_lightning.export.metadata import metadata
    from rnn_lightning.export.writing import write_new
    from rnn_lightning.model.reading import DigitReader

    check_exporter(options.format)
    path = checkpoint_path(options.ckpt_path)
    reader = DigitReader(path)  # a missing, unreadable or foreign checkpoint fails here, in one line
    graph = ExportedReader(reader)
    about = metadata(reader, graph, options.input_dtype)
    print(f"Exporting {path} ({about['model']}) as {FORMAT_NAMES[options.format]}...", file=sys.stderr)
    try:
        program = trace(graph, options.input_dtype)
        data = (
            onnx_bytes(program, graph.output_names, about)
            if options.format == "onnx"
            else pt2_bytes(program, about)
        )
    except Exception as error:  # an exporter's refusal: its first line says why
        reason = first_line(error)
        raise UserInputError(f"{about['model']} cannot be exported as {options.format}: {reason}") from None
    write_new(output, data, options.overwrite)
    shape = f"images {options.input_dtype} (batch, 28, 28) -> {' and '.join(graph.output_names)}"
    print(f"Wrote {output} ({len(data):,} bytes, {FORMAT_NAMES[options.format]}): {shape}; {about['model']}")
    return 0
