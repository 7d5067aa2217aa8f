"""Project hygiene that CI should catch: packaging in sync, notebooks fit for papermill."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib

import nbformat
import pytest
import yaml

from crmlab.stages import STAGES, get_stage

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PARAMETERS = ["params_file", "overrides", "run_dir", "processed_dir", "language"]


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


def _code_tree(path) -> ast.Module:
    """The notebook's code cells as one module (IPython magics and shell lines left out)."""
    cells = [
        "\n".join(line for line in c.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "code"
    ]
    return ast.parse("\n".join(cells))


def _crmlab_imports(tree: ast.Module) -> set[str]:
    """Dotted ``crmlab`` modules a notebook imports (``from crmlab import x`` counts as crmlab.x)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("crmlab"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("crmlab"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_notebook_imports_the_runner(path):
    # the runner executes the notebooks; a notebook that imports it runs in a circle
    imported = _crmlab_imports(_code_tree(path))
    assert not {m for m in imported if m.startswith("crmlab.runner")}, imported


MAX_MODULE_LINES = 600  # issue 15: a module a reader takes in at once


def test_no_module_is_too_long_to_read():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "crmlab").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split these by concern: {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_sentences_come_from_the_stage_narrative(path):
    """A computed sentence is built in ``crmlab/<stage>/narrative.py``, not in a notebook cell."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                assert not re.search(r"Markdown\(\s*f[\"']", line), f"{path.name}: {line.strip()}"


PRODUCT_CALLS = ("input", "find", "output")


def _product_calls(tree: ast.Module) -> list[tuple[str, str]]:
    """``(method, product)`` of every ``ctx.input/find/output("<literal>")`` call."""
    calls = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in PRODUCT_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "ctx"
        ):
            arg = node.args[0] if node.args else None
            assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                f"ctx.{node.func.attr}(...) at line {node.lineno} must name its product literally"
            )
            calls.append((node.func.attr, arg.value))
    return calls


@pytest.mark.parametrize("stage", STAGES, ids=[s.name for s in STAGES])
def test_notebook_reaches_only_the_products_its_stage_declares(stage):
    # the static side of the contract; crmlab.context refuses undeclared names at run time too
    tree = _code_tree(ROOT / "notebooks" / stage.notebook)
    opened = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "stage_context"
        and node.args and isinstance(node.args[0], ast.Constant)
    ]
    assert opened == [stage.name], f"{stage.notebook} must open stage_context({stage.name!r}, ...) once"
    declared = get_stage(stage.name)
    for method, product in _product_calls(tree):
        if method == "output":
            assert product in declared.writes, f"{stage.notebook} writes undeclared {product!r}"
        else:
            assert declared.declares_read(product), f"{stage.notebook} reads undeclared {product!r}"


def test_product_calls_are_found_in_notebook_code():
    tree = ast.parse('ctx.input("a.parquet")\nx = ctx.find("b.json")\nctx.output("c.json")\nother.input("z")')
    assert _product_calls(tree) == [("input", "a.parquet"), ("find", "b.json"), ("output", "c.json")]


# Declared but used without an import statement, each for a stated reason.
USED_WITHOUT_IMPORT = {
    "openpyxl": "pandas' engine for .xlsx input and Excel tables",
    "xlrd": "pandas' engine for legacy .xls input",
    "ipykernel": "the kernel the stage notebooks run on (crmlab.kernel starts it)",
}


def _imported_top_levels() -> set[str]:
    """Top-level module names imported by the package and the notebooks."""
    sources = [p.read_text() for p in (ROOT / "crmlab").rglob("*.py")]
    for nb in NOTEBOOKS:
        for cell in nbformat.read(nb, as_version=4).cells:
            if cell.cell_type == "code":
                sources.append("\n".join(
                    line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
                ))
    names: set[str] = set()
    for src in sources:
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"crmlab", "__future__"}


def test_dependencies_tell_the_truth():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {_name_and_bound(r)[0] for r in project["dependencies"]}
    dask_extra = {_name_and_bound(r)[0] for r in project["optional-dependencies"]["dask"]}
    dists = importlib.metadata.packages_distributions()

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    imported = {norm(dists.get(m, [m])[0]) for m in _imported_top_levels()}
    declared = {norm(n) for n in base | dask_extra}
    assert imported <= declared, f"imported but not declared: {sorted(imported - declared)}"
    unused = {norm(n) for n in base} - imported - {norm(n) for n in USED_WITHOUT_IMPORT}
    assert not unused, f"declared but never imported: {sorted(unused)}"


def test_version_has_one_source():
    import crmlab

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert importlib.metadata.version("crmlab") == crmlab.__version__


def test_lock_pins_every_declared_dependency():
    # make lock compiles every extra, so each declared name has an exact version
    lock = (ROOT / "requirements-lock.txt").read_text()
    pinned = {m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==", lock, re.M)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for rs in project["optional-dependencies"].values() for r in rs]
    missing = {_name_and_bound(r)[0].replace("_", "-") for r in reqs} - pinned
    assert not missing, f"not in requirements-lock.txt (run make lock): {sorted(missing)}"


def test_readme_tested_with_line_matches_the_lock():
    lock = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / "requirements-lock.txt").read_text(), re.M))
    readme = " ".join((ROOT / "README.md").read_text().split())
    line = re.search(r"Tested with: (.*?) on Python", readme)
    assert line, "README lost its 'Tested with:' line"
    for name, version in re.findall(r"([A-Za-z0-9_.\-]+) (\d[^,\s]*)", line.group(1)):
        assert lock.get(name) == version, f"README says {name} {version}, the lock {lock.get(name)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_cells_have_ids(path):
    """nbformat 4.5 cell ids: a notebook without them warns now and will not load later."""
    cells = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT).cells
    assert all(c.get("id") for c in cells), f"{path.name}: cell without id (nbformat.validator.normalize)"


def test_ci_script_parses():
    """`.ci/run` is what CI executes on a clean clone: a shell syntax error fails the whole run."""
    import subprocess

    done = subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
