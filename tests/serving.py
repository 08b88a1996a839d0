"""Starting `python -m rnn_lightning serve` as a user would, on a free loopback port, always stopped."""

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
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
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


@contextlib.contextmanager
def running_server(checkpoint: Path, cwd: Path, *options: str, stop: int = signal.SIGINT, env=None):
    """Yields (base URL, process) once `/health` answers; stops the server with `stop` (Ctrl-C's SIGINT
    by default) and records the processes it had started in `process.children`."""
    port = free_port()
    command = [sys.executable, "-m", "rnn_lightning", "serve", "--ckpt_path", str(checkpoint)]
    command += ["--port", str(port), *options]
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"serve exited with {process.returncode}: {process.stderr.read()[-2000:]}"
                )
            with contextlib.suppress(OSError):
                key = (env or {}).get("RNN_LIGHTNING_API_KEY")
                if (
                    request(f"{base}/health", timeout=2, headers={"X-API-Key": key} if key else None)[0]
                    == 200
                ):
                    break
            if time.monotonic() > deadline:
                raise AssertionError("serve did not become healthy within 120 s")
            time.sleep(0.3)
        process.children = children(process.pid)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(stop)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
