"""`serve`'s settings for every server process, their defaults written once: the command line's options
default to them, the app and its batcher are built from them."""

from dataclasses import dataclass

MEGABYTE = 2**20


@dataclass(frozen=True)
class ServeSettings:
    """What a server process needs besides its checkpoint."""

    device: str = "cpu"  # a torch device: cpu, cuda or mps
    max_batch_size: int = 16  # dynamic batching: requests per batch
    batch_timeout: float = 0.002  # dynamic batching: seconds to fill a batch after its first request
    threads: int = 1  # PyTorch threads per server process (0: PyTorch's default)
    max_upload_bytes: int = 4 * MEGABYTE  # larger uploads are answered 413
    collect: str | None = None  # serve --collect: the folder the page's corrections are saved in (off: None)
