"""Workaround: say in `--help` what each subcommand does and what this project means by an argument
Lightning describes (`--ckpt_path last`), give such an argument this project's default (`test --verbose`,
Lightning's table of metrics, off), and list `serve` and `export` beside Lightning's own subcommands.

LightningCLI lists its subcommands with the first line of the Trainer method's docstring ("Runs the
full optimization routine.") and each method argument with the Trainer's docstring, and has no public
way to change either or to add a subcommand of another kind. This overrides its private
`_add_subcommands` and reaches into jsonargparse's private `_subcommands_action` (an argparse
`_SubParsersAction`, whose `_name_parser_map` holds each subcommand's parser).

Upstream: https://github.com/Lightning-AI/pytorch-lightning/issues/12438 (open: how subcommands should
be customised). Checked on Lightning 2.6.6 and jsonargparse 4.53. Test:
tests/workarounds/test_workarounds.py and
the `--help` tests in tests/cli/test_cli.py fail if either private name goes.
"""

from typing import ClassVar

from jsonargparse import ArgumentParser


class DescribedSubcommands:
    """A mixin for `LightningCLI` (listed before it): `SUBCOMMAND_HELP` replaces the Trainer's docstring
    lines, `ARGUMENT_HELP` (subcommand -> argument -> text) the help of the Trainer method's arguments,
    `argument_defaults()` (subcommand -> argument -> value) their defaults (LightningCLI adds them after
    `add_arguments_to_parser`, too late to set there), and `extra_subcommands()` adds parsers listed in
    `--help` (run by the caller, not by Lightning)."""

    SUBCOMMAND_HELP: ClassVar[dict[str, str]] = {}
    ARGUMENT_HELP: ClassVar[dict[str, dict[str, str]]] = {}

    def argument_defaults(self) -> dict[str, dict[str, object]]:
        return {}

    def extra_subcommands(self) -> dict[str, tuple[ArgumentParser, str]]:
        return {}

    def _add_subcommands(self, parser: ArgumentParser, **kwargs) -> None:
        super()._add_subcommands(parser, **kwargs)
        action = parser._subcommands_action
        for choice in action._choices_actions:
            choice.help = self.SUBCOMMAND_HELP.get(choice.dest, choice.help)
        for name, subparser in action._name_parser_map.items():
            texts = self.ARGUMENT_HELP.get(name, {})
            for argument in subparser._actions:
                argument.help = texts.get(argument.dest, argument.help)
            if defaults := self.argument_defaults().get(name):
                subparser.set_defaults(defaults)
        for name, (subparser, text) in self.extra_subcommands().items():
            action.add_subcommand(name, subparser, help=text)
