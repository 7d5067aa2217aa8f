"""Stage notebooks run on this interpreter (the project's .venv), whatever kernels a user has."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest

from crmlab import runner
from crmlab.kernel import ProjectKernelManager, kernel_argv
from crmlab.stages import Stage


def test_kernel_argv_is_this_interpreter():
    assert kernel_argv()[:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert kernel_argv("/x/python")[0] == "/x/python"
    assert ProjectKernelManager().kernel_spec.argv[0] == sys.executable


@pytest.fixture()
def probe_notebook(tmp_path, monkeypatch):
    """A one-cell notebook that prints the interpreter it runs on, as a stage of its own."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nprint(sys.executable)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "nb").mkdir()
    nbformat.write(nb, tmp_path / "nb" / "probe.ipynb")
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", tmp_path / "nb")
    return Stage(name="probe", notebook="probe.ipynb", section=None)


def test_stage_runs_on_sys_executable_even_with_a_foreign_python3_kernelspec(
    tmp_path, monkeypatch, capfd, probe_notebook
):
    # a user-level "python3" kernelspec pointing at another interpreter, first on Jupyter's
    # search path: a name lookup would pick it (and fail, since the path does not exist)
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(tmp_path / "other-python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Some other Python", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    out = runner._execute(probe_notebook, 1, run_dir, {}, False)
    printed = nbformat.read(out, as_version=4).cells[0].outputs[0]["text"].strip()
    assert printed == sys.executable
    # IPC transport: the kernel no longer warns about plain-text TCP in every stage's log
    assert "without encryption" not in capfd.readouterr().err
