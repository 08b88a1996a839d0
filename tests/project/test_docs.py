"""The figures that the README and docs/ quote from the repository itself agree with it: config values,
steps, epochs and validations (issue 37: the docs gave the speedrun a validation interval its config
did not have)."""

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from rnn_lightning.data.datamodule import VALIDATION_SIZE

PROJECT = Path(__file__).resolve().parents[2]
DOCUMENTS = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]
MNIST_TRAINING_IMAGES = 60_000  # MNIST's and Fashion-MNIST's training files; the first 5,000 validate
HISTORICAL = re.compile(r"run log", re.IGNORECASE)
"""Sections whose heading says they keep an earlier recipe's record: their figures describe that recipe."""

YAML_NAME = re.compile(r"\b(?:configs/|rnn_lightning/)?([a-z_]+)\.yaml\b")
FRAGMENT = re.compile(r"`([a-z_][a-z0-9_.]*): ([^`]+)`")
EPOCHS = re.compile(r"\b(\d+(?:\.\d+)?) epochs?\b")
MAX_STEPS_OVERRIDE = re.compile(r"`[^`]*--trainer\.max_steps (\d+)[^`]*`")
BATCH_OVERRIDE = re.compile(r"--data\.batch_size (\d+)")
SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[A-Z(])")


def deep_merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = deep_merge(merged[key], value) if isinstance(merged.get(key), dict) else value
    return merged


def yaml_files() -> dict[str, Path]:
    files = {path.stem: path for path in (PROJECT / "configs").glob("*.yaml")}
    files["defaults"] = PROJECT / "rnn_lightning" / "defaults.yaml"
    return files


DEFAULTS = yaml.safe_load((PROJECT / "rnn_lightning" / "defaults.yaml").read_text())


def effective(name: str) -> dict:
    """A config as a run sees it: rnn_lightning/defaults.yaml, then the config over it."""
    own = yaml.safe_load(yaml_files()[name].read_text())
    return own if name == "defaults" else deep_merge(DEFAULTS, own)


def leaves(tree, path=()):
    """(dotted path, value) of every leaf, list items by index."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, (*path, str(key)))
    elif isinstance(tree, list) and not all(isinstance(item, (int, float, str)) for item in tree):
        for index, value in enumerate(tree):
            yield from leaves(value, (*path, str(index)))
    else:
        yield path, tree


def values_at(config: dict, dotted: str) -> list:
    """The values of every leaf whose path ends with `dotted` (`lr`, `model.init`, `trainer.max_steps`)."""
    wanted = tuple(dotted.split("."))
    return [value for path, value in leaves(config) if path[-len(wanted) :] == wanted]


def steps_per_epoch(batch_size: int) -> int:
    return math.ceil((MNIST_TRAINING_IMAGES - VALIDATION_SIZE) / batch_size)


def epochs_of(config: dict) -> float | None:
    trainer = config.get("trainer", {})
    if trainer.get("max_epochs"):
        return float(trainer["max_epochs"])
    if trainer.get("max_steps"):
        return trainer["max_steps"] / steps_per_epoch(config["data"]["batch_size"])
    return None


@dataclass
class Unit:
    """A paragraph, a list item or a table row of a document, with the headings it sits under."""

    document: str
    line: int
    title: str  # the document's first heading
    section: str  # the nearest heading above
    text: str

    def id(self) -> str:
        return f"{self.document}:{self.line}"

    def where(self) -> str:
        return f"{self.document}:{self.line} ({self.section})"

    def configs(self) -> list[str]:
        """The yaml files this unit names, in order; else the one its document's title is about."""
        names = [name for name in YAML_NAME.findall(self.text) if name in yaml_files()]
        return names or [name for name in YAML_NAME.findall(self.title) if name in yaml_files()]


def units(path: Path) -> list[Unit]:
    found, title, section, lines, start = [], "", "", [], 0
    in_code = False

    def close():
        if lines:
            found.append(Unit(path.name, start, title, section, " ".join(lines)))
        lines.clear()

    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            close()
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.startswith("#"):
            close()
            section = line.lstrip("#").strip()
            title = title or section
            continue
        if not line.strip() or line.startswith("|") or re.match(r"\s*(?:[-*]|\d+\.) ", line):
            close()
        if line.strip():
            lines.append(line.strip())
            start = start if len(lines) > 1 else number
        if line.startswith("|"):
            close()
    close()
    return found


ALL_UNITS = [unit for document in DOCUMENTS for unit in units(document)]
CURRENT_UNITS = [unit for unit in ALL_UNITS if not HISTORICAL.search(unit.section)]


def test_the_documents_are_read():
    """The splitting finds the paragraphs the other tests read (else they would pass on nothing)."""
    assert any("speedrun" in unit.configs() for unit in ALL_UNITS)
    assert sum(bool(FRAGMENT.search(unit.text)) for unit in CURRENT_UNITS) >= 10
    assert any(HISTORICAL.search(unit.section) for unit in ALL_UNITS)


QUOTING_YAML = [unit for unit in CURRENT_UNITS if FRAGMENT.search(unit.text) and unit.configs()]


@pytest.mark.parametrize("unit", QUOTING_YAML, ids=Unit.id)
def test_config_values_quoted_as_yaml_are_the_configs(unit):
    """`key: value` beside a config's name (or in a page about one) is that config's value, as a run sees
    it (defaults.yaml under it), e.g. docs/time_to_accuracy.md's `val_check_interval: ...`."""
    configs = {name: effective(name) for name in unit.configs()}
    for key, quoted in FRAGMENT.findall(unit.text):
        value = yaml.safe_load(quoted)
        found = {name: values_at(config, key) for name, config in configs.items()}
        if not any(found.values()):
            continue  # an option that none of these configs sets: a description, not a quoted value
        assert any(value in values for values in found.values()), (
            f"{unit.where()}: `{key}: {quoted}`, but {found}"
        )


@pytest.mark.parametrize("unit", [u for u in ALL_UNITS if MAX_STEPS_OVERRIDE.search(u.text)], ids=Unit.id)
def test_epochs_beside_a_max_steps_override_are_its_steps(unit):
    """'N epochs' next to `--trainer.max_steps M` means M = N times the steps of an epoch at that batch size
    (430 at 128: 55,000 training images)."""
    config = effective(unit.configs()[0]) if unit.configs() else effective("default")
    checked = 0
    for sentence in SENTENCE_END.split(unit.text):
        epochs = [(match.start(), float(match.group(1))) for match in EPOCHS.finditer(sentence)]
        for override in MAX_STEPS_OVERRIDE.finditer(sentence) if epochs else ():
            max_steps = int(override.group(1))
            batch = BATCH_OVERRIDE.search(override.group(0))
            batch_size = int(batch.group(1)) if batch else config["data"]["batch_size"]
            nearest = min(epochs, key=lambda item: abs(item[0] - override.start()))[1]
            checked += 1
            assert max_steps == round(nearest * steps_per_epoch(batch_size)), (
                f"{unit.where()}: {nearest:g} epochs at batch {batch_size} is "
                f"{nearest * steps_per_epoch(batch_size):g} steps, the override says {max_steps}"
            )
    if not checked:
        pytest.skip("no sentence names both epochs and max_steps")


def test_steps_an_epoch_quoted_are_the_datas():
    """'430 steps an epoch', '6 epochs of 430 steps': 55,000 training images in batches of 128."""
    quoted = re.compile(r"\b(\d+) steps an epoch|epochs? of (\d+) steps")
    texts = [(unit.where(), unit.text) for unit in CURRENT_UNITS]
    texts += [(path.name, path.read_text()) for path in yaml_files().values()]
    seen, default_batch = 0, DEFAULTS["data"]["batch_size"]
    for where, text in texts:
        for match in quoted.finditer(text):
            seen += 1
            assert int(match.group(1) or match.group(2)) == steps_per_epoch(default_batch), where
    assert seen


VALIDATIONS = re.compile(r"(\d+) validations")


@pytest.mark.parametrize("name", sorted(yaml_files()))
def test_a_configs_comments_count_its_own_steps(name):
    """A config's comments agree with its values: `max_steps: M  # N epochs`, `val_check_interval: V  # K
    validations` (K = M / V, the last on the last step)."""
    config = effective(name)
    trainer = config.get("trainer", {})
    for line in yaml_files()[name].read_text().splitlines():
        value, _, comment = line.partition("#")
        if value.strip().startswith("max_steps:") and (epochs := EPOCHS.search(comment)):
            assert trainer["max_steps"] == float(epochs.group(1)) * steps_per_epoch(
                config["data"]["batch_size"]
            )
        if value.strip().startswith("val_check_interval:") and (
            count := re.search(r"(\d+) validations", comment)
        ):
            assert trainer["max_steps"] == int(count.group(1)) * trainer["val_check_interval"], line


VALIDATES_EVERY = re.compile(r"validat(?:es?|ion|ing) every ([\d,]+)(?: of ([\d,]+))? steps")


@pytest.mark.parametrize("unit", [u for u in CURRENT_UNITS if VALIDATES_EVERY.search(u.text)], ids=Unit.id)
def test_validation_intervals_in_prose_are_the_configs(unit):
    """'validates every 516 of 2,580 steps' (or 'validation every N steps') about a config is its own
    val_check_interval (and max_steps), outside the sections that keep an earlier recipe's run log."""
    assert unit.configs(), f"{unit.where()}: an interval that names no config"
    config = effective(unit.configs()[0])
    for interval, of in VALIDATES_EVERY.findall(unit.text):
        assert int(interval.replace(",", "")) == config["trainer"]["val_check_interval"], unit.where()
        if of:
            assert int(of.replace(",", "")) == config["trainer"]["max_steps"], unit.where()


def agree_on_length(names: list[str]) -> bool:
    return bool(names) and len({epochs_of(effective(name)) for name in names}) == 1


@pytest.mark.parametrize(
    "unit",
    [
        u
        for u in CURRENT_UNITS
        if YAML_NAME.search(u.text) and EPOCHS.search(u.text) and agree_on_length(u.configs())
    ],
    ids=Unit.id,
)
def test_epochs_said_of_one_named_config_are_its_own(unit):
    """A paragraph or table row that names a config (or several of one length) and no override of its
    length ('`speedrun.yaml` ... 6 epochs', '`tuned.yaml` ... 20 epochs') gives its number of epochs."""
    if re.search(r"--trainer\.max_(?:steps|epochs)|--data\.batch_size", unit.text):
        pytest.skip("the length is overridden here")
    if re.search(r"\b(?:up to|at) commit [0-9a-f]{7}|as typed then", unit.text):
        pytest.skip("an older commit's config")
    name = unit.configs()[0]
    epochs = epochs_of(effective(name))
    for said in EPOCHS.findall(unit.text):
        assert float(said) == epochs, f"{unit.where()}: {said} epochs, but {name}.yaml runs {epochs:g}"


def test_the_tutorials_steps_are_the_default_configs():
    """'the tutorial's 10,000 steps' (README) is configs/default.yaml's max_steps."""
    quoted = [
        int(match.replace(",", ""))
        for unit in CURRENT_UNITS
        for match in re.findall(r"tutorial's ([\d,]+) steps", unit.text)
    ]
    assert quoted
    assert set(quoted) == {effective("default")["trainer"]["max_steps"]}


def read_csv(name: str) -> list[dict]:
    with (PROJECT / "docs" / name).open() as file:
        return list(csv.DictReader(file))


def gate_column(rows: list[dict], gate: str, column: str, from_row: int = 1) -> list[float]:
    return [float(row[column]) for row in rows if row["gate"] == gate and int(row["rows_read"]) >= from_row]


def two_places(values: list[float]) -> tuple[str, str]:
    return f"{min(values):.2f}", f"{max(values):.2f}"


def test_the_tutorials_gate_and_memory_figures_are_its_csvs():
    """docs/inside_the_lstm.md's figures for the tutorial's model are those of the CSVs kept beside its
    pictures, to the places it gives (issue 37: it said 0.29 where the CSV has 0.301)."""
    text = " ".join((PROJECT / "docs" / "inside_the_lstm.md").read_text().split())
    gates = read_csv("gates_by_row_default.csv")

    def said(pattern: str) -> tuple[str, ...]:
        found = re.search(pattern, text)
        assert found, f"docs/inside_the_lstm.md no longer says {pattern!r}: update this test with it"
        return found.groups()

    forget_mean, forget_spread = gate_column(gates, "forget", "mean"), gate_column(gates, "forget", "std")
    assert said(r"forget gate is ([\d.]+)-([\d.]+) at every row, with a spread .*? of at most ([\d.]+)") == (
        *two_places(forget_mean),
        two_places(forget_spread)[1],
    )
    input_output = gate_column(gates, "input", "mean") + gate_column(gates, "output", "mean")
    assert said(r"input and output gates sit at ([\d.]+)-([\d.]+)") == two_places(input_output)
    *cell_spread, from_row = said(r"the cell gate, spread ([\d.]+)-([\d.]+) from row (\d+) on")
    assert tuple(cell_spread) == two_places(gate_column(gates, "cell", "std", int(from_row)))
    from_row, *at_most = said(
        r"from row (\d+) on one standard deviation .*? against at most ([\d.]+) and ([\d.]+) in the tutorial"
    )
    sigmoid = [
        std
        for gate in ("input", "forget", "output")
        for std in gate_column(gates, gate, "std", int(from_row))
    ]
    cell = gate_column(gates, "cell", "std", int(from_row))
    assert tuple(at_most) == (two_places(sigmoid)[1], two_places(cell)[1])
    memory = read_csv("memory_by_digit_default.csv")
    units = [abs(float(value)) for row in memory for key, value in row.items() if key.startswith("unit_")]
    assert said(r"The tutorial's units hold little \(within ±([\d.]+)\)") == (f"{max(units):.1f}",)
