"""Workaround: a mistyped option gets "did you mean", as `--trainer.max_step 3` -> `--trainer.max_steps`.

Neither jsonargparse nor argparse suggests options: argparse's `suggest_on_error` (Python 3.14) suggests
only choices and subcommand names, and this project runs on 3.11 and 3.12. This reads argparse's private
`_option_string_actions` (every option string of a parser) when a parse fails on unrecognized arguments.

Upstream: https://github.com/python/cpython/issues/116028 (argparse suggestions, choices only so far);
none found for jsonargparse. Checked on jsonargparse 4.53 and CPython 3.11. Test:
tests/workarounds/test_workarounds.py
fails if `_option_string_actions` goes; tests/cli/test_cli.py checks the suggestion a user sees.
"""

import difflib
import re
from typing import NoReturn

from jsonargparse import ArgumentParser
from typing_extensions import override

UNRECOGNIZED = re.compile(r"unrecognized arguments: (?P<arguments>.*)", re.DOTALL)


def with_suggestion(message: str, options: list[str]) -> str:
    """`message` with "(did you mean --x?)" for its first unrecognized option that is close to one of
    `options`; as it was otherwise."""
    match = UNRECOGNIZED.match(message)
    if not match or "did you mean" in message:
        return message
    for argument in match["arguments"].split():
        if argument.startswith("--"):
            typed = argument.split("=", 1)[0]
            if close := difflib.get_close_matches(typed, options, n=1, cutoff=0.75):
                return f"{message} (did you mean {close[0]}?)"
    return message


class SuggestingOptions:
    """A mixin for a jsonargparse parser (listed before it): an unrecognized option says which one it
    probably meant. (`lightning_cli.py` mixes it into LightningCLI's parser: this module stays light.)"""

    @override
    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        options = [option for option in self._option_string_actions if option.startswith("--")]
        super().error(with_suggestion(message, options), ex)  # type: ignore[misc]


class SuggestingArgumentParser(SuggestingOptions, ArgumentParser):
    """jsonargparse's parser that suggests options (`serve`, `export`)."""
