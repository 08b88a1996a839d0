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


def test_not_slow_leaves_out_every_fit_on_real_mnist():
    """`-m 'not slow'` is the quick run: no test that trains on real MNIST for minutes is in it."""

    def collected(marks: str) -> set[str]:
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", marks, "tests"]
        result = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=300)
        return {line.split("[")[0] for line in result.stdout.splitlines() if "::" in line}

    slow, quick = collected("slow"), collected("not slow")
    long_fits = {
        "tests/test_resume.py::test_resume_in_mid_epoch_is_bit_exact",  # fits real MNIST itself
        "tests/test_cli.py::test_fit_prints_the_tutorial_lines_once",  # fitted_run
        "tests/test_predict.py::test_predict_without_path_predicts_the_test_set",  # trained_checkpoint
        "tests/test_serve.py::test_pixels_as_json_give_the_digit_and_its_reading",  # trained_checkpoint
    }
    assert long_fits <= slow and not long_fits & quick
    assert "tests/test_serve.py::test_bad_input_is_one_line_4xx_and_the_app_keeps_serving" in quick


def test_every_project_file_the_code_and_docs_name_exists():
    """A renamed script or test leaves no page or docstring pointing at the old name."""
    import re

    named_elsewhere = {"configs/X.yaml", "rnn_lightning/reader.py"}  # a placeholder; a file at a git revision
    pattern = re.compile(
        r"(?<![\w/.])((?:rnn_lightning|tests|benchmarks|scripts|docs|configs|notebooks)/[\w/.-]*\w\.(?:py|sh|md|yaml|png|html|ipynb))"
    )
    sources = [PROJECT / "README.md", *PROJECT.glob("docs/*.md"), *PROJECT.glob("configs/*.yaml")]
    sources += [
        *PROJECT.glob("rnn_lightning/**/*.py"),
        *PROJECT.glob("benchmarks/*"),
        *PROJECT.glob("scripts/*"),
    ]
    sources += [*PROJECT.glob("tests/*.py"), *PROJECT.glob("notebooks/*.ipynb")]
    missing = {
        (source.relative_to(PROJECT).as_posix(), name)
        for source in sources
        for name in pattern.findall(source.read_text())
        if name not in named_elsewhere and not (PROJECT / name).exists()
    }
    assert missing == set()
