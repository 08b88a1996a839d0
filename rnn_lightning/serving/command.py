"""`python -m rnn_lightning serve`: its options, and starting the server. Imports LitServe only to run."""

import gc
import os
import signal
import socket
from pathlib import Path

from jsonargparse import ArgumentParser

from rnn_lightning.errors import UserInputError

HELP = "Serve a checkpoint over HTTP (LitServe): POST /predict, and a page at / to draw digits on."


def build_parser(prog: str) -> ArgumentParser:
    """The options of `serve`; also what `--help` of the main command lists."""
    parser = ArgumentParser(
        prog=prog, description=HELP, exit_on_error=False, env_prefix="RNN_LIGHTNING_SERVE"
    )
    parser.add_argument(
        "--ckpt_path",
        required=True,
        help="Checkpoint to serve; 'last' is the newest lightning_logs/version_*/checkpoints/last.ckpt.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="Address to listen on (loopback only by default)."
    )
    parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
    parser.add_argument(
        "--max_batch_size", type=int, default=16, help="Dynamic batching: requests per batch."
    )
    parser.add_argument(
        "--batch_timeout",
        type=float,
        default=0.002,
        help="Dynamic batching: seconds to wait to fill a batch.",
    )
    parser.add_argument("--workers", type=int, default=1, help="Model workers per device.")
    parser.add_argument(
        "--api_servers",
        type=int,
        default=1,
        help="HTTP server processes in front of them (1 serves best on 2 cores, docs/serving.md).",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="PyTorch threads per model worker (0: its default)."
    )
    parser.add_argument("--accelerator", default="auto", help="auto, cpu, cuda or mps.")
    parser.add_argument("--max_upload_mb", type=float, default=4.0, help="Larger uploads are answered 413.")
    return parser


def check_port(host: str, port: int) -> None:
    """One clear line now, rather than a traceback from the server's own bind later."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise UserInputError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def interrupt_main_process(main_pid: int):
    """A SIGTERM handler: Ctrl-C's path in the main process; the default (end quietly) in the HTTP
    processes that LitServe forks from it, which inherit the handler and are ended by SIGTERM."""

    def handler(signum, frame) -> None:
        if os.getpid() == main_pid:
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    return handler


def serve(args: list[str], prog: str) -> int:
    """Parses `args`, checks the checkpoint and the port, prints the page's address and serves until
    Ctrl-C."""
    from rnn_lightning.checkpoint_file import newest_last_checkpoint
    from rnn_lightning.reader import DigitReader

    options = build_parser(prog).parse_args(args)
    path = (
        newest_last_checkpoint(Path("lightning_logs")) if options.ckpt_path == "last" else options.ckpt_path
    )
    for name in ("max_batch_size", "workers", "api_servers"):
        if getattr(options, name) < 1:
            raise UserInputError(f"--{name} must be at least 1")
    if options.batch_timeout < 0 or options.threads < 0 or options.max_upload_mb <= 0:
        raise UserInputError("--batch_timeout and --threads must not be negative, --max_upload_mb positive")
    reader = DigitReader.from_checkpoint(path)  # a bad checkpoint fails here, in one line, not in a worker
    check_port(options.host, options.port)

    from rnn_lightning.serving.app import build_server

    server = build_server(
        str(path),
        accelerator=options.accelerator,
        workers=options.workers,
        max_batch_size=options.max_batch_size,
        batch_timeout=options.batch_timeout,
        threads=options.threads,
        max_upload_bytes=int(options.max_upload_mb * 1024 * 1024),
    )
    shown = f"[{options.host}]" if ":" in options.host else options.host
    kind = reader.to_sequence.kind
    print(
        f"Serving {path} ({kind}) at http://{shown}:{options.port}/  (POST /predict; Ctrl-C stops)",
        flush=True,
    )
    # LitServe shuts its processes down on Ctrl-C (KeyboardInterrupt) but not on SIGTERM, which left the
    # model worker running; a SIGTERM (`kill`, a service manager) now takes the same path as Ctrl-C.
    signal.signal(signal.SIGTERM, interrupt_main_process(os.getpid()))
    # The HTTP process LitServe forks from this one inherits its heap (PyTorch, the model, the web stack);
    # full garbage collections walked all of it under load and made the p99 latency 210-230 ms. Frozen
    # here, they leave that heap alone (p99 19 ms, docs/serving.md); freezing in the model worker instead
    # changed nothing. Start-up's garbage is collected first: a server runs for long.
    gc.enable()  # paused through start-up by `run` (heap.py)
    gc.collect()
    gc.freeze()
    server.run(
        host=options.host,
        port=options.port,
        num_api_servers=options.api_servers,
        generate_client_file=False,
        log_level="warning",
    )
    return 0
