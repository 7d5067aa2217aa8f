"""Project hygiene that CI should catch: packaging in sync, notebooks fit for papermill."""

from __future__ import annotations

import ast
import re
import tomllib

import nbformat
import pytest
import yaml

from crmlab.runner import STAGES

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PARAMETERS = ["params_file", "overrides", "run_dir", "processed_dir"]


def _name_and_bound(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(>=\s*[0-9][^,;\s]*)?", req)
    assert m, req
    return m.group(1).lower(), (m.group(2) or "").replace(" ", "")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_name_and_bound(d) for d in env["dependencies"] if isinstance(d, str) and d != "pip")
    for req in project["dependencies"]:
        name, bound = _name_and_bound(req)
        assert name in conda, f"{name} is in pyproject.toml but not in environment.yml"
        assert conda[name] == bound, f"{name}: pyproject {bound!r} vs environment.yml {conda[name]!r}"
    pip = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert any(x.startswith("-e .[") for x in pip), "environment.yml should pip-install the project"


def test_every_stage_has_its_notebook_and_every_notebook_a_stage():
    names = {s.notebook for s in STAGES}
    assert names == {p.name for p in NOTEBOOKS}
    assert [s.notebook for s in STAGES] == sorted(names), "stages run in notebook number order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_clean_and_parameterised(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(tagged[0].source)
    assigned = [t.id for node in tree.body for t in node.targets]  # type: ignore[attr-defined]
    assert assigned == PARAMETERS
    for node in tree.body:
        ast.literal_eval(node.value)  # literals only: papermill replaces them
    later = "\n".join(c.source for c in nb.cells[nb.cells.index(tagged[0]) + 1 :] if c.cell_type == "code")
    for name in PARAMETERS:
        assert not re.search(rf"^\s*{name}\s*=", later, re.M), f"{name} reassigned after the parameters cell"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "commit notebooks without outputs"
