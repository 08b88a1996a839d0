"""`python -m rnn_lightning serve`: its options and checks, then uvicorn with `--workers` server
processes sharing the port, each with its own model and batcher (`app.py`)."""

import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

from rnn_lightning.checkpointing.files import CHECKPOINT_OPTION_HELP, checkpoint_path
from rnn_lightning.errors import UserInputError
from rnn_lightning.serving.settings import MEGABYTE, ServeSettings
from rnn_lightning.workarounds.option_suggestions import SuggestingArgumentParser

HELP = "Serve a checkpoint over HTTP: POST /predict, and a page at / to draw digits on."
OLD_API_KEY_VARIABLE = "LIT_SERVER_API_KEY"  # LitServe's, read before 0.2: refused, so no server runs unkeyed
ACCELERATORS = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "mps": "mps"}  # as the Trainer's, to torch's
DEFAULTS = ServeSettings()


def build_parser(prog: str) -> SuggestingArgumentParser:
    """The options of `serve`; also what `--help` of the main command lists."""
    parser = SuggestingArgumentParser(prog=prog, description=HELP, exit_on_error=False, allow_abbrev=False)
    option = parser.add_argument
    option("--ckpt_path", required=True, help=f"Checkpoint to serve: {CHECKPOINT_OPTION_HELP}.")
    option("--host", default="127.0.0.1", help="Address to listen on (loopback only by default).")
    option("--port", type=int, default=8000, help="Port to listen on.")
    batch, timeout = DEFAULTS.max_batch_size, DEFAULTS.batch_timeout
    option("--max_batch_size", type=int, default=batch, help="Dynamic batching: requests per batch.")
    option("--batch_timeout", type=float, default=timeout, help="Dynamic batching: seconds to fill a batch.")
    option("--workers", type=int, default=2, help="Server processes sharing the port, a model each.")
    threads = "PyTorch threads per worker (0: PyTorch's default)."
    option("--threads", type=int, default=DEFAULTS.threads, help=threads)
    accelerators = "auto, cpu, gpu or mps, as the Trainer's (cuda: gpu); every worker uses it."
    option("--accelerator", default="auto", help=accelerators)
    upload = DEFAULTS.max_upload_bytes / MEGABYTE
    option("--max_upload_mb", type=float, default=upload, help="Larger uploads are answered 413.")
    collect = "Show the page's 'Wrong? It is a ...' buttons and save each correction as DIR/<digit>/*.png."
    option("--collect", metavar="DIR", help=collect)
    return parser


def check_port(host: str, port: int) -> None:
    """One clear line now, rather than a traceback from the server's own bind later."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise UserInputError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def torch_device(accelerator: str) -> str:
    """`--accelerator` as a torch device; one that this machine lacks is one line."""
    import torch

    present = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    if accelerator == "auto":
        return next(device for device in present if present[device])
    device = ACCELERATORS.get(accelerator)
    if device is None or not present[device]:
        raise UserInputError(f"--accelerator {accelerator}: not one of auto, cpu, gpu, mps on this machine")
    return device


def serve(args: list[str], prog: str) -> int:
    """Parses `args`, checks the checkpoint and the port, prints the page's address, serves until Ctrl-C
    or SIGTERM (uvicorn stops its workers either way)."""
    import uvicorn

    from rnn_lightning.model.reading import DigitReader
    from rnn_lightning.serving.app import settings_to_environment

    options = build_parser(prog).parse_args(args)
    if os.environ.get(OLD_API_KEY_VARIABLE):
        raise UserInputError(f"{OLD_API_KEY_VARIABLE} is no longer read: set RNN_LIGHTNING_API_KEY instead")
    path = checkpoint_path(options.ckpt_path)
    if options.max_batch_size < 1 or options.workers < 1:
        raise UserInputError("--max_batch_size and --workers must be at least 1")
    if options.batch_timeout < 0 or options.threads < 0 or options.max_upload_mb <= 0:
        raise UserInputError("--batch_timeout and --threads must not be negative, --max_upload_mb positive")
    if not 1 <= options.port <= 65535:  # 0 would listen on a port the printed address does not name
        raise UserInputError(f"--port {options.port}: not a port number (1 to 65535)")
    kind = DigitReader(path).to_sequence.kind  # a bad checkpoint fails here, in one line
    device = torch_device(options.accelerator)
    collect = None if options.collect is None else Path(options.collect).resolve()
    if collect is not None and collect.exists() and not collect.is_dir():  # made at the first correction
        raise UserInputError(f"--collect {options.collect}: not a folder")
    check_port(options.host, options.port)
    settings = ServeSettings(
        device, options.max_batch_size, options.batch_timeout, options.threads,
        int(options.max_upload_mb * MEGABYTE), None if collect is None else str(collect))  # fmt: skip
    settings_to_environment(str(Path(path).resolve()), settings)
    shown = f"[{options.host}]" if ":" in options.host else options.host
    print(f"Serving {path} ({kind}, {device}, {options.workers} workers) at http://{shown}:{options.port}/"
          "  (POST /predict, its API at /docs; Ctrl-C stops)", flush=True)  # fmt: skip
    if collect is not None:
        print(f"Saving the page's corrections in {collect}/<digit>/", file=sys.stderr, flush=True)
    # SIGTERM as Ctrl-C: uvicorn shuts down on either, then raises it again here, where it ends quietly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run("rnn_lightning.serving.app:app_from_environment", factory=True, host=options.host,
                    port=options.port, workers=options.workers, log_level="warning",
                    timeout_graceful_shutdown=1)  # fmt: skip
    return 0
