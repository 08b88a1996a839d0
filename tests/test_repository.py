"""The repository as a maintainer meets it: every tracked source file seen by git and by ruff."""

import shutil
import subprocess
import sys

import pytest

from tests.conftest import PROJECT


def in_git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    result = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=PROJECT, capture_output=True, text=True
    )
    return result.returncode == 0 and result.stdout.strip() == str(PROJECT)


@pytest.mark.skipif(not in_git_checkout(), reason="not a git checkout of the project")
def test_no_tracked_file_is_matched_by_gitignore():
    """A pattern such as `data/` unanchored would also ignore rnn_lightning/data/ (lint and git status
    would then skip it); --no-index checks the patterns against files that are already tracked."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=PROJECT,
        input=tracked,
        capture_output=True,
        text=True,
    )
    assert ignored.returncode in (0, 1), ignored.stderr  # 1: nothing matched
    assert ignored.stdout == ""
    assert "rnn_lightning/data/datamodule.py" in tracked.splitlines()


def test_the_version_is_written_once_and_the_command_prints_it():
    """pyproject.toml holds no version of its own: it reads `rnn_lightning.__version__`, which
    `--version` prints."""
    import rnn_lightning

    pyprojecttoml = pytest.importorskip("setuptools.config.pyprojecttoml")
    project = pyprojecttoml.read_configuration(PROJECT / "pyproject.toml")["project"]
    assert project["version"] == rnn_lightning.__version__
    assert "version" in pyprojecttoml.load_file(PROJECT / "pyproject.toml")["project"]["dynamic"]
    result = subprocess.run(
        [sys.executable, "-m", "rnn_lightning", "--version"], cwd=PROJECT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"python -m rnn_lightning {rnn_lightning.__version__}"
