"""The command's name as the user called it, for the lines it prints: `rnn-lightning` (the console script)
or `python -m rnn_lightning`."""

import sys
from pathlib import Path


def program_name() -> str:
    """How the user called us: `rnn-lightning` (the console script) or `python -m rnn_lightning`."""
    return "rnn-lightning" if Path(sys.argv[0]).name == "rnn-lightning" else "python -m rnn_lightning"
