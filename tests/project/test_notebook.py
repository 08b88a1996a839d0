"""notebooks/tutorial.ipynb: stored without outputs, and run top to bottom by a real kernel on real MNIST."""

import ast
import asyncio
import importlib
import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT

NOTEBOOK = PROJECT / "notebooks" / "tutorial.ipynb"
CELL_TIMEOUT_S = 900  # the longest cell, the 1,000-step fit, takes minutes on 2 busy CPU cores
WHOLE_TIMEOUT_S = 1800
KERNEL_NAME = "rnn-lightning-tests"


def test_the_notebook_is_stored_without_outputs():
    """Outputs would go stale with every change of the code (and make every diff a wall of base64);
    CI executes the notebook instead (the test below)."""
    notebook = json.loads(NOTEBOOK.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, "the notebook has no code cells"
    with_outputs = [index for index, cell in enumerate(code) if cell["outputs"] or cell["execution_count"]]
    assert with_outputs == [], f"code cells {with_outputs} carry outputs: clear them before committing"


def test_the_notebooks_imports_from_this_package_exist():
    """Every `from rnn_lightning... import ...` of the notebook names something the package has: a rename
    shows in the quick run, not only in the slow run of the whole notebook."""
    notebook = json.loads(NOTEBOOK.read_text())
    source = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    ours = [node for node in imports if node.module and node.module.split(".")[0] == "rnn_lightning"]
    assert ours, "the notebook imports nothing from rnn_lightning"
    missing = [
        f"{node.module}.{alias.name}"
        for node in ours
        for alias in node.names
        if not hasattr(importlib.import_module(node.module), alias.name)
    ]
    assert missing == [], f"the notebook imports names the package does not have: {missing}"


def write_kernelspec(folder: Path) -> Path:
    """A kernelspec running this very interpreter (the venv's), importing the package from this checkout,
    whatever other `python3` kernels the machine has."""
    spec = folder / KERNEL_NAME
    spec.mkdir(parents=True)
    checkout = os.pathsep.join([str(PROJECT), *filter(None, [os.environ.get("PYTHONPATH")])])
    kernel = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "rnn_lightning tests",
        "language": "python",
        "env": {"PYTHONPATH": checkout},
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return folder


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom(real_data_dir, tmp_path, monkeypatch):
    """Every cell runs without an error in a fresh kernel, in a temporary folder (its run's files land
    there, not in the repository), reading MNIST from RNN_LIGHTNING_DATA; the tutorial's lines and its
    pictures are in the outputs."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    monkeypatch.setenv("RNN_LIGHTNING_DATA", str(real_data_dir))  # the kernel inherits the environment
    workdir = tmp_path / "work"
    workdir.mkdir()
    specs = KernelSpecManager(kernel_dirs=[str(write_kernelspec(tmp_path / "kernels"))])
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    where = "import rnn_lightning\nprint(f'imported from {rnn_lightning.__file__}')"
    notebook.cells.append(nbformat.v4.new_code_cell(where))
    client = nbclient.NotebookClient(
        notebook,
        km=KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs),
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(workdir)}},  # the kernel's working folder
    )
    try:  # a cell that errs raises nbclient's CellExecutionError, with the cell and its traceback
        asyncio.run(asyncio.wait_for(client.async_execute(), WHOLE_TIMEOUT_S))  # shuts the kernel down
    except asyncio.TimeoutError:
        pytest.fail(f"the notebook ran for more than {WHOLE_TIMEOUT_S} s")

    streams = {"stdout": "", "stderr": ""}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                streams[output.name] += output.text
    stdout = streams["stdout"]
    assert "Step 1, Minibatch Loss=" in stdout and "Step 1000, Minibatch Loss=" in stdout
    assert "Optimization Finished!" in stdout and "Testing Accuracy: " in stdout
    assert f"imported from {PROJECT / 'rnn_lightning' / '__init__.py'}" in stdout  # this checkout's
    assert "Warning" not in streams["stderr"]  # the progress bar and Lightning's lines, no warnings
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    # one image as rows, the chart, accuracy by row, one digit inside, gates, memory, confusions, the file
    assert sum("image/png" in output.get("data", {}) for output in outputs) == 8
    assert [path.name for path in workdir.iterdir()] == ["lightning_logs"]  # nothing downloaded, no strays
