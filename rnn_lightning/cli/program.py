"""The command's name as the user typed it, for its messages; imports nothing heavy."""

import sys
from pathlib import Path


def program_name() -> str:
    """How the user called us: `rnn-lightning` (the console script) or `python -m rnn_lightning`."""
    return "rnn-lightning" if Path(sys.argv[0]).name == "rnn-lightning" else "python -m rnn_lightning"
