"""The command line: LightningCLI with the tutorial's subcommands, `serve` and `export` beside them, and its
start-up."""
