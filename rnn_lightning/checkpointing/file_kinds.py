"""What a file given as a checkpoint is, when it is not one: read from its first bytes (and, for text, its
YAML), so that `--ckpt_path config.yaml` is told it gave a config, not shown PyTorch's unpickling text."""

import re
import zipfile
from pathlib import Path

import yaml

from rnn_lightning.errors import first_line

HEAD = 4096  # bytes read to tell a file's kind; a YAML file is read whole only if it is small
SMALL_TEXT = 1 << 20
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"BM": "BMP"}
PICKLE_PROTOCOL = 0x80  # a pickle of protocol 2 or later: PyTorch's format before its zip archives
RUN_CONFIG_KEYS = {"trainer", "model", "data", "seed_everything"}
HPARAMS_KEYS = {"cell", "hidden_size"}


def is_pytorch_file(head: bytes, path: Path) -> bool:
    """Whether `path` may be in one of `torch.save`'s formats: a zip archive with a `data.pkl` (or one cut
    short, whose names cannot be read: torch.load says so), or a pickle."""
    if head.startswith(b"PK\x03\x04"):
        names = zip_names(path)
        return names is None or any(name.endswith("/data.pkl") for name in names)
    return head[:1] == bytes([PICKLE_PROTOCOL])


def zip_names(path: Path) -> list[str] | None:
    """The names inside a zip archive; None if it cannot be read as one."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return None


def looks_like_onnx(head: bytes) -> bool:
    """ONNX's ModelProto starts with field 1 (ir_version, a small varint), then field 2 or 3, a string
    (producer_name, "pytorch" for `export`'s files): bytes 0x08, n, 0x12 or 0x1a, length, printable text."""
    if len(head) < 5 or head[0] != 0x08 or head[1] >= 0x80 or head[2] not in (0x12, 0x1A):
        return False
    text = head[4 : 4 + head[3]]
    return len(text) == head[3] and text.isascii() and text.decode("ascii").isprintable()


def text_kind(path: Path, head: bytes) -> str | None:
    """What a text file is: a run's YAML config, a hyper-parameters file, some other YAML, or text;
    None if `head` is not text."""
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut by the end of the head
            return None
    try:
        data = yaml.safe_load(path.read_text()) if path.stat().st_size <= SMALL_TEXT else None
    except (yaml.YAMLError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and RUN_CONFIG_KEYS & set(data):
        return "a run's YAML config"
    if isinstance(data, dict) and set(data) >= HPARAMS_KEYS:
        return "a YAML file of model hyper-parameters (hparams.yaml)"
    if isinstance(data, dict):
        return "a YAML file"
    return "a text file"


def what_it_is(path: Path) -> str | None:
    """A phrase for what `path` is ("a folder", "an ONNX model", "a run's YAML config"...) when it is no
    PyTorch file; None when it may be one (then `torch.load` tells)."""
    if path.is_dir():
        return "a folder"
    if not path.exists():
        return "missing"
    if not path.is_file():
        return "not a regular file"
    with path.open("rb") as file:
        head = file.read(HEAD)
    if not head:
        return "an empty file"
    if is_pytorch_file(head, path):
        return None
    if head.startswith(b"PK\x03\x04"):
        if any(name.endswith("/archive_format") for name in zip_names(path) or []):
            return "a torch.export program (export --format pt2 writes these)"
        return "a zip archive of something else"
    if looks_like_onnx(head):
        return "an ONNX model (export writes these)"
    for signature, name in IMAGE_SIGNATURES.items():
        if head.startswith(signature):
            return f"a {name} image (predict reads images: --data.predict_path)"
    return text_kind(path, head) or "of an unknown kind (neither a PyTorch file nor text)"


def where_the_checkpoint_is(path: Path) -> str:
    """A hint at the checkpoint a user probably meant: the run's `last.ckpt` near `path`, if there is one."""
    folder = path if path.is_dir() else path.parent
    for candidate in (folder / "last.ckpt", folder / "checkpoints" / "last.ckpt"):
        if candidate.is_file():
            return f"; the run's checkpoint is {candidate}"
    return ""


UNSUPPORTED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


def why_torch_refused(error: Exception) -> str:
    """torch.load's failure in a few words, never its text about `weights_only`: what the file holds that
    a checkpoint does not, or the first line of any other failure (a truncated archive)."""
    text = str(error).strip()
    if "weights_only" in text or "Weights only load failed" in text:
        found = UNSUPPORTED_GLOBAL.search(text)
        held = f" ({found[1]})" if found else ""
        return (
            f"it holds Python objects{held} beyond tensors and plain values; not loaded, as that can run code"
        )
    return first_line(error)
