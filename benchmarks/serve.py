"""Serving speed: `rnn_lightning serve` under load from wrk, beside two plain FastAPI servers.

    python benchmarks/serve.py [--ckpt_path PATH] [--duration 10] [--connections 64] [--data_dir DATA]

Each server is started in its own process on a free loopback port and loaded by Debian's `wrk` (a Python
client tops out near 440 requests/s here and would measure itself) with 64 connections for a fixed
duration, posting one 28x28 MNIST digit as JSON `{"pixels": ...}`, the page's request:

- `serve`, dynamic batching on (the defaults), and off (`--max_batch_size 1`);
- `serve` with the defaults asked `POST /predict?inside=true` (as the page asks): the same answer with the
  network's gates and states after each row, from the same pass, and a JSON answer some 45 times
  larger;
- `fastapi-model`: a FastAPI endpoint that reads the JSON and runs the same model once per request, with
  the same answer, as a person would write it by hand;
- `fastapi-parse`: a FastAPI endpoint that parses the same JSON and runs no model: the ceiling of the HTTP
  stack on this machine.

Each is loaded for 3 s first, uncounted (a warm-up: every worker process up). It prints requests/s, p50
and p99 latency and failed requests for each, and the ratio to the ceiling
measured in the same run; then the cost of each piece of one request, measured in this process. Without
`--ckpt_path` it serves a freshly initialised default model (speed does not depend on the weights).
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import textwrap
import timeit
from pathlib import Path

from common import PROJECT, add_data_dir, parse, print_provenance

from rnn_lightning.serving.local_server import ServerDidNotStart, free_port, running

LITSERVE_REVISION = "4c348ae"  # the last commit that served through LitServe

FASTAPI_APP = textwrap.dedent(
    """
    import json, sys, torch
    from fastapi import FastAPI, Request
    from rnn_lightning.model.reading import DigitReader
    from rnn_lightning.serving.app import json_to_image
    torch.set_num_threads(1)
    app = FastAPI()
    reader = DigitReader(sys.argv[1]) if sys.argv[2] == "model" else None

    @app.get("/health")
    async def health():
        return "ok"

    @app.post("/predict")
    async def predict(request: Request):
        body = await request.json()
        if reader is None:
            return {"rows": len(body["pixels"])}
        image = json_to_image(json.dumps(body))
        reading = reader.read(image[None])
        probabilities, steps = reading.probabilities[0].tolist(), reading.probabilities_by_row
        digit = max(range(10), key=probabilities.__getitem__)
        return {"digit": digit, "probability": probabilities[digit], "probabilities": probabilities,
                "input": image.tolist(), "steps": steps[0].tolist()}

    if __name__ == "__main__":
        import uvicorn
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
    """
)


def make_checkpoint(folder: Path) -> Path:
    """A checkpoint of the default model as Lightning writes one, untrained."""
    import torch

    from rnn_lightning.model.classifier import SequenceClassifier

    model = SequenceClassifier()
    path = folder / "model.ckpt"
    torch.save(
        {
            "state_dict": model.state_dict(),
            "hyper_parameters": dict(model.hparams),
            "MNISTDataModule": {"sequence": "rows", "permutation": None},
        },
        path,
    )
    return path


def digit_pixels(data_dir: str | None) -> list[list[int]]:
    """A real MNIST test digit where the data is at hand, else a drawn bar (the load is the same)."""
    try:
        from torchvision.datasets import MNIST

        return MNIST(str(data_dir), train=False).data[0].tolist()
    except Exception:
        return [[255 if 4 <= x < 24 and 12 <= y < 16 else 0 for x in range(28)] for y in range(28)]


def load(
    port: int, body_file: Path, duration: int, connections: int, threads: int, path: str = "/predict"
) -> dict:
    """wrk's requests/s, p50 and p99 latency (ms) and failed requests against `path`."""
    script = body_file.with_suffix(".lua")
    script.write_text(
        f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*all")\nf:close()\n'
    )
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script)]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, timeout=duration + 60
    ).stdout

    def milliseconds(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([0-9.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = int(re.search(r"(\d+) requests in", output).group(1))
    failed = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        failed += sum(int(n) for n in m.groups())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)),
        "p50": milliseconds("50%"),
        "p99": milliseconds("99%"),
        "requests": requests,
        "failed": failed,
    }


def piece_costs(checkpoint: Path, body: bytes) -> list[tuple[str, float]]:
    """Microseconds for each piece of one request, in this process, one thread."""
    import torch

    from rnn_lightning.model.reading import DigitReader
    from rnn_lightning.serving.app import answer_batch, json_to_image

    torch.set_num_threads(1)
    reader = DigitReader(checkpoint)
    image = json_to_image(body)

    def micro(function, number: int) -> float:
        return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6

    return [
        ("the JSON body to a 28x28 uint8 tensor, validated", micro(lambda: json_to_image(body), 2000)),
        ("model + answer's JSON, batch of 1, per request", micro(lambda: answer_batch(reader, [image]), 200)),
        ("model + answer's JSON, batch of 16, per request", micro(
            lambda: answer_batch(reader, [image] * 16), 20) / 16),
        ("the same with inside=true, batch of 1", micro(lambda: answer_batch(reader, [image], [True]), 50)),
        ("the same with inside=true, batch of 16, per request", micro(
            lambda: answer_batch(reader, [image] * 16, [True] * 16), 5) / 16),
    ]  # fmt: skip


def serving_lines(revision: str | None = None) -> int:
    """Lines of the Python code that only serving uses: `rnn_lightning/serving/` (and, before the
    rework, `rnn_lightning/reader.py`), in the working tree or at a git revision."""
    if revision is None:
        paths = sorted((PROJECT / "rnn_lightning" / "serving").glob("*.py"))
        return sum(len(path.read_text().splitlines()) for path in paths)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True, check=True).stdout

    listed = git("ls-tree", "-r", "--name-only", revision, "rnn_lightning/").split()
    wanted = [p for p in listed if p.startswith("rnn_lightning/serving/") or p == "rnn_lightning/reader.py"]
    return sum(len(git("show", f"{revision}:{path}").splitlines()) for path in wanted if path.endswith(".py"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--ckpt_path", "--ckpt", type=Path, help="checkpoint to serve (default: an untrained default model)"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--only", nargs="+", help="names of the servers to load (default: all)")
    parser.add_argument("--serve-args", default="", help="extra options for both `serve` runs")
    add_data_dir(parser, required=False, purpose="; the digit posted, else a drawn bar")
    args = parse(parser)

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        checkpoint = (args.ckpt_path or make_checkpoint(folder)).resolve()
        body_file = folder / "body.json"
        body_file.write_bytes(json.dumps({"pixels": digit_pixels(args.data_dir)}).encode())
        serve = [sys.executable, "-m", "rnn_lightning", "serve", "--ckpt_path", str(checkpoint)]
        app_file = folder / "fastapi_app.py"
        app_file.write_text(FASTAPI_APP)
        plain = [sys.executable, str(app_file), str(checkpoint)]
        extra = args.serve_args.split()
        servers = {
            "fastapi-parse": lambda port: [*plain, "parse", str(port)],
            "serve, batching on": lambda port: [*serve, "--port", str(port), *extra],
            "serve, batching off": lambda port: [
                *serve,
                "--port",
                str(port),
                "--max_batch_size",
                "1",
                *extra,
            ],
            "serve, batching on, inside=true": lambda port: [*serve, "--port", str(port), *extra],
            "fastapi-model": lambda port: [*plain, "model", str(port)],
        }
        paths = {"serve, batching on, inside=true": "/predict?inside=true"}
        results = {}
        for name, command in servers.items():
            if args.only and name not in args.only:
                continue
            port = free_port()
            try:
                with running(command(port), port, PROJECT, stdout=subprocess.DEVNULL):
                    # Warm-up, not counted: every worker process started and its first batches run.
                    path = paths.get(name, "/predict")
                    connections, threads = args.connections, args.wrk_threads
                    load(port, body_file, 3, connections, threads, path)
                    results[name] = load(port, body_file, args.duration, connections, threads, path)
            except ServerDidNotStart as error:
                raise SystemExit(f"{name}: {error}") from None
            print(f"{name}: {results[name]}", file=sys.stderr, flush=True)
        ceiling = results.get("fastapi-parse", {}).get("rps")
        print_provenance()
        print(
            f"\n{args.connections} connections, {args.duration} s each, wrk -t{args.wrk_threads}, 127.0.0.1"
        )
        print("| server | requests/s | vs ceiling | p50 ms | p99 ms | requests | failed |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, r in results.items():
            ratio = f"{r['rps'] / ceiling:.2f}x" if ceiling else ""
            print(
                f"| {name} | {r['rps']:,.0f} | {ratio} | {r['p50']:.1f} | {r['p99']:.1f} | "
                f"{r['requests']:,} | {r['failed']} |"
            )
        print("\n| piece of one request (this process, 1 thread) | µs |\n| --- | --- |")
        for label, micros in piece_costs(checkpoint, body_file.read_bytes()):
            print(f"| {label} | {micros:,.0f} |")
        try:
            before = serving_lines(LITSERVE_REVISION)
        except (OSError, subprocess.SubprocessError):  # outside a git clone, or a shallow one
            before = None
        now = serving_lines()
        then = f"{before} on LitServe ({LITSERVE_REVISION}), " if before else ""
        print(f"\nLines of serving code: {then}{now} now" + (f" ({now / before:.2f}x)" if before else ""))


if __name__ == "__main__":
    main()
