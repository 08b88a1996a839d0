"""`python -m rnn_lightning` and the `rnn-lightning` console script."""

import sys

from rnn_lightning.cli import build_cli
from rnn_lightning.errors import UserInputError


def main(args: list[str] | None = None) -> int:
    """Runs the CLI; bad input ends with a one-line message on stderr and exit status 2."""
    try:
        build_cli(args)
    except UserInputError as error:
        print(f"rnn-lightning: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
