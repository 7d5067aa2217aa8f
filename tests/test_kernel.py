"""Stage notebooks run on this interpreter (the project's .venv), whatever kernels a user has."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest

from crmlab import runner
from crmlab.kernel import (
    ALLOCATOR_ENV,
    DASK_ALLOCATOR_ENV,
    InMemoryKernelManager,
    ProjectKernelManager,
    kernel_argv,
    kernel_env,
    kernel_manager,
)
from crmlab.stages import Stage


def test_kernel_argv_is_this_interpreter():
    assert kernel_argv()[:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert kernel_argv("/x/python")[0] == "/x/python"
    assert ProjectKernelManager().kernel_spec.argv[0] == sys.executable


def test_allocator_settings_only_on_the_pandas_engine():
    assert kernel_manager("pandas") is InMemoryKernelManager
    assert kernel_manager("dask") is ProjectKernelManager
    assert InMemoryKernelManager().kernel_spec.env == kernel_env()
    # Dask workers spill: freed memory must go back (Dask's nanny setting), not be kept
    assert ProjectKernelManager().kernel_spec.env == kernel_env(engine="dask")
    assert kernel_env({}, engine="dask") == DASK_ALLOCATOR_ENV


def test_kernel_env_keeps_what_the_user_set():
    assert kernel_env({}) == ALLOCATOR_ENV
    assert kernel_env({"MALLOC_MMAP_MAX_": "65536"}) == {
        k: v for k, v in ALLOCATOR_ENV.items() if k != "MALLOC_MMAP_MAX_"
    }


@pytest.fixture()
def probe_notebook(tmp_path, monkeypatch):
    """A one-cell notebook that prints the interpreter it runs on, as a stage of its own."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, sys\nprint(sys.executable)\nprint(os.environ.get('MALLOC_MMAP_MAX_'))"
        "\nprint(os.environ.get('MALLOC_TRIM_THRESHOLD_'))"
    )]
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
    monkeypatch.delenv("MALLOC_MMAP_MAX_", raising=False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "12345")  # the user's own setting wins
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    out = runner._execute(probe_notebook, 1, run_dir, {}, False)
    printed = nbformat.read(out, as_version=4).cells[0].outputs[0]["text"].split()
    assert printed == [sys.executable, ALLOCATOR_ENV["MALLOC_MMAP_MAX_"], "12345"]
    # IPC transport: the kernel no longer warns about plain-text TCP in every stage's log
    assert "without encryption" not in capfd.readouterr().err
