"""A server command in a child process on a free loopback port: started, waited for until `/health`
answers, always stopped. The one harness of the tests, the serving benchmark and the screenshot script
(the standard library alone: it starts `serve` as a user would, it imports nothing of it)."""

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

STARTUP_LIMIT_S = 120  # a cold start on a loaded 2-core machine imports PyTorch and Lightning first


class ServerDidNotStart(RuntimeError):
    """The command exited, or did not answer `/health` in time; the message ends with its stderr."""


def free_port() -> int:
    """A loopback port no one listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(
    url: str, body: bytes | None = None, content_type: str | None = None, timeout: float = 30, headers=None
):
    """(status, parsed JSON or text) of a GET, or of a POST when `body` is given."""
    headers = {**({"Content-Type": content_type} if content_type else {}), **(headers or {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=timeout) as answer:
            status, data, kind = answer.status, answer.read(), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        status, data, kind = error.code, error.read(), error.headers.get("Content-Type", "")
    return status, json.loads(data) if "json" in kind else data.decode()


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, read from /proc (Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie does not)."""
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


@contextlib.contextmanager
def running(
    command: list[str],
    port: int,
    cwd: Path,
    *,
    stop: int = signal.SIGINT,
    env=None,
    stdout=subprocess.PIPE,
    api_key: str | None = None,
) -> Iterator[subprocess.Popen]:
    """Yields the process of `command` (listening on `port`) once `/health` answers; stops it with `stop`
    (Ctrl-C's SIGINT by default: serve stops its workers too), killed after 30 s, and records the
    processes it had started in `process.children`."""
    process = subprocess.Popen(command, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        health, headers = f"http://127.0.0.1:{port}/health", {"X-API-Key": api_key} if api_key else None
        what = " ".join(Path(part).name for part in command[1:4])  # `-m rnn_lightning serve`, a script
        while True:
            if process.poll() is not None:
                raise ServerDidNotStart(
                    f"{what} exited with {process.returncode}: {process.stderr.read()[-2000:]}"
                )
            with contextlib.suppress(OSError):
                if request(health, timeout=2, headers=headers)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise ServerDidNotStart(f"{what} did not answer /health within {STARTUP_LIMIT_S} s")
            time.sleep(0.3)
        process.children = children(process.pid)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(stop)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def running_server(
    checkpoint: Path, cwd: Path, *options: str, stop: int = signal.SIGINT, env=None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m rnn_lightning serve --ckpt_path CHECKPOINT OPTIONS` on a free port: yields (base URL,
    process) once it answers, as `running` does."""
    port = free_port()
    command = [sys.executable, "-m", "rnn_lightning", "serve", "--ckpt_path", str(checkpoint)]
    key = (env or {}).get("RNN_LIGHTNING_API_KEY")
    with running(
        [*command, "--port", str(port), *options], port, cwd, stop=stop, env=env, api_key=key
    ) as process:
        yield f"http://127.0.0.1:{port}", process
