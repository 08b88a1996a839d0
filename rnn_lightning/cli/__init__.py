"""The command line: LightningCLI with the tutorial's subcommands, `serve` beside them, and its start-up."""
