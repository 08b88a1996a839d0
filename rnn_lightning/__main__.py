"""`python -m rnn_lightning`: the command line, `rnn_lightning/cli/`."""

from rnn_lightning.cli.main import run

if __name__ == "__main__":
    run()
