"""The repository as a maintainer meets it: every tracked source file seen by git and by ruff."""

import re
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


class Collector:
    """A pytest plugin that keeps, of every test collected, what the slow rule reads."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def pytest_collection_finish(self, session) -> None:
        import inspect

        for item in session.items:
            function = getattr(item, "function", None)
            variant_marks = getattr(getattr(item, "callspec", None), "marks", [])
            self.items.append({
                "id": item.nodeid,
                "slow": item.get_closest_marker("slow") is not None,
                "fixtures": list(getattr(item, "fixturenames", ())),
                "source": inspect.getsource(function) if function else "",
                "function": f"{item.path.name}::{getattr(item, 'originalname', item.name)}",
                "variant_slow": any(mark.name == "slow" for mark in variant_marks),
            })  # fmt: skip


def test_not_slow_leaves_out_every_fit_on_real_mnist():
    """`-m 'not slow'` is the quick run: no test that trains on real MNIST for minutes is in it, and one of
    each check that is repeated across variants stays in it. Read from
    one collection of the whole suite (in this process: pytest's own `pytest.main`), by rule rather than
    by test names: every test asking for a fixture that fits on real MNIST is slow, each such fixture is
    asked for (else the list names a stale one), and every test that itself runs `fit` on real MNIST
    carries the mark."""
    from tests.conftest import FITS_ON_REAL_MNIST

    collector = Collector()
    options = ["--collect-only", "-q", "-p", "no:cacheprovider", "--rootdir", str(PROJECT)]
    assert pytest.main([*options, str(PROJECT / "tests")], plugins=[collector]) == 0
    items = collector.items
    assert len(items) > 100
    for fixture in FITS_ON_REAL_MNIST:
        users = [item for item in items if fixture in item["fixtures"]]
        assert users, f"no test asks for {fixture}: FITS_ON_REAL_MNIST names a stale fixture"
        assert [item["id"] for item in users if not item["slow"]] == []
    fits_itself = re.compile(r"fit_args\(real_data_dir|[\"']fit[\"'],[^)]*real_data_dir", re.DOTALL)
    own_fits = [
        item for item in items if "real_data_dir" in item["fixtures"] and fits_itself.search(item["source"])
    ]
    assert own_fits, "no test fits on real MNIST itself: this rule reads nothing"
    assert [item["id"] for item in own_fits if not item["slow"]] == []
    assert any(not item["slow"] for item in items)
    # a variant marked slow (one check repeated across configs, signals, workers) leaves one in the quick run
    with_slow_variants = {item["function"] for item in items if item["variant_slow"]}
    assert with_slow_variants, "no variant is marked slow: this rule reads nothing"
    quick = {item["function"] for item in items if not item["slow"]}
    assert sorted(with_slow_variants - quick) == []


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
    sources += [*PROJECT.glob("tests/**/*.py"), *PROJECT.glob("notebooks/*.ipynb")]
    missing = {
        (source.relative_to(PROJECT).as_posix(), name)
        for source in sources
        for name in pattern.findall(source.read_text())
        if name not in named_elsewhere and not (PROJECT / name).exists()
    }
    assert missing == set()
