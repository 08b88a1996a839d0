"""What the program is, for every part of it: its name as the user called it, for the lines it prints
(`rnn-lightning`, the console script, or `python -m rnn_lightning`), and the defaults every run starts
from."""

import sys
from pathlib import Path

DEFAULTS = Path(__file__).parent / "defaults.yaml"
"""What every config shares (read before --config), the logger's folder among it (for serve's `last`)."""


def program_name() -> str:
    """How the user called us: `rnn-lightning` (the console script) or `python -m rnn_lightning`."""
    return "rnn-lightning" if Path(sys.argv[0]).name == "rnn-lightning" else "python -m rnn_lightning"
