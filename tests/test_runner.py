"""The runner on tiny throw-away notebooks: folders, manifest, latest, failures, locking."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from crmlab import cli, runner
from crmlab.errors import InputError

PARAMS_CELL = 'params_file = None\noverrides = []\nrun_dir = None\nprocessed_dir = None'


def _notebook(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS_CELL)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# toy stage"),
        params,
        nbformat.v4.new_code_cell(body),
    ]
    nbformat.write(nb, path)


CTX = (
    "from crmlab.config import stage_context\n"
    "ctx = stage_context(params_file, overrides, run_dir, processed_dir)\n"
)
WRITE = CTX + (
    "p = ctx.params\n"
    "ctx.product('a.txt').write_text(p['run_name'] + ':' + str(p.get('periods')))\n"
    "(ctx.figures / 'f.txt').write_text('fig')\n"
    "print('SECRET_CODE_LINE' if False else 'stage output visible')"
)
READ = CTX + (
    "text = ctx.require('a.txt', 'a').read_text()\n"
    "ctx.product('b.txt').write_text(text.upper())"
)
BOOM = "raise RuntimeError('boom in the notebook')"
BAD_INPUT = (
    "from crmlab.errors import InputError\n"
    "raise InputError('data.csv: column \\'amount\\' has no numbers')"
)


@pytest.fixture
def toy_chain(tmp_path, monkeypatch, write_params):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    _notebook(nbdir / "01_a.ipynb", WRITE)
    _notebook(nbdir / "02_b.ipynb", READ)
    _notebook(nbdir / "03_boom.ipynb", BOOM)
    _notebook(nbdir / "04_bad.ipynb", BAD_INPUT)
    stages = (
        runner.Stage("a", "01_a.ipynb", None, produces=("a.txt",)),
        runner.Stage("b", "02_b.ipynb", None, requires=("a.txt",), produces=("b.txt",)),
        runner.Stage("boom", "03_boom.ipynb", "survey"),
        runner.Stage("bad", "04_bad.ipynb", "churn"),
    )
    monkeypatch.setattr(runner, "STAGES", stages)
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", nbdir)
    base = {
        "run_name": "toy",
        "paths": {"processed": str(tmp_path / "processed"), "outputs": str(tmp_path / "outputs")},
    }
    return tmp_path, base, write_params


def test_run_writes_run_folder_and_moves_latest(toy_chain, capsys):
    tmp, base, write_params = toy_chain
    params = write_params({**base, "periods": {"observation_end": "1998-06-30"}})
    assert cli.main(["run", "--params", str(params), "--no-progress"]) == 0
    out = capsys.readouterr()
    assert "[skip] boom: no 'survey:' section" in out.err
    assert "[1/2] a" in out.err and "[2/2] b" in out.err
    runs = tmp / "outputs" / "toy"
    latest = runs / "latest"
    run_dir = runs / os.readlink(latest)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "success"
    assert manifest["stages"]["a"]["status"] == "success"
    assert manifest["stages"]["boom"] == {"status": "skipped", "reason": "no 'survey:' section in the params"}
    assert manifest["params"]["periods"]["observation_end"] == "1998-06-30"
    assert "pandas" in manifest["versions"]
    assert (run_dir / "01_a.ipynb").exists() and (run_dir / "figures" / "f.txt").exists()
    html = (run_dir / "01_a.html").read_text()
    assert "stage output visible" in html
    assert "SECRET_CODE_LINE" not in html  # code is hidden
    assert (run_dir / "run.log").read_text().count("[1/2] a") == 1
    products = tmp / "processed" / "toy"
    assert (products / "b.txt").read_text().startswith("TOY:")
    assert not list(products.glob(".staging-*"))
    assert f"run folder: {run_dir}" in out.out


def test_failed_notebook_exit_1_keeps_latest_and_products(toy_chain, capsys):
    tmp, base, write_params = toy_chain
    ok = write_params(base, "ok.yaml")
    assert cli.main(["run", "--params", str(ok), "--no-progress"]) == 0
    latest = tmp / "outputs" / "toy" / "latest"
    before = os.readlink(latest)
    products = tmp / "processed" / "toy"
    before_a = (products / "a.txt").read_text()
    capsys.readouterr()

    bad = write_params({**base, "survey": {
        "path": str(Path(__file__).parents[1] / "data/raw/ecsi/mobi.csv"),
        "constructs": {"Satisfaction": ["CUSA1"]}, "outcome": "Satisfaction",
    }, "periods": {"observation_end": "2000-01-01"}}, "bad.yaml")
    assert cli.main(["run", "--params", str(bad), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: stage 'boom' failed: RuntimeError: boom in the notebook")
    assert "03_boom.ipynb" in err
    assert os.readlink(latest) == before
    assert (products / "a.txt").read_text() == before_a  # the failed run's a.txt was not promoted
    failed = [d for d in (tmp / "outputs" / "toy").iterdir() if d.name not in ("latest", before) and d.is_dir()]
    manifest = json.loads((failed[0] / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["stages"]["boom"]["status"] == "failed"
    nb = nbformat.read(failed[0] / "03_boom.ipynb", as_version=4)
    assert any("papermill-error-cell-tag" in c.metadata.get("tags", []) for c in nb.cells)


def test_input_error_inside_notebook_is_exit_2(toy_chain, capsys):
    tmp, base, write_params = toy_chain
    params = write_params({**base, "churn": {
        "path": str(Path(__file__).parents[1] / "data/raw/telco/telco_churn.csv"), "target": "churn",
    }})
    assert cli.main(["run", "--params", str(params), "--only", "bad", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: data.csv: column 'amount' has no numbers (stage 'bad'")


def test_only_reads_earlier_products_or_says_what_is_missing(toy_chain, capsys):
    tmp, base, write_params = toy_chain
    params = write_params(base)
    assert cli.main(["run", "--params", str(params), "--only", "b", "--no-progress"]) == 2
    assert "needed by stage 'b'" in capsys.readouterr().err
    assert cli.main(["run", "--params", str(params), "--only", "a", "--no-progress"]) == 0
    assert cli.main(["run", "--params", str(params), "--only", "b", "--no-progress"]) == 0
    assert (tmp / "processed" / "toy" / "b.txt").exists()


def test_lock_refuses_a_second_run_of_the_same_name(toy_chain):
    tmp, base, write_params = toy_chain
    params = write_params(base)
    folder = tmp / "outputs" / "toy"
    with runner._run_lock(folder):
        with pytest.raises(InputError, match="another run of this run_name is in progress"):
            runner.run(params, only=["a"], progress=False)
    # a stale lock (dead pid) is taken over
    (folder / ".lock").write_text("999999999")
    assert runner.run(params, only=["a"], progress=False).status == "success"


def test_select_stages_keeps_chain_order(toy_chain):
    assert [s.name for s in runner.select_stages(["b,a"])] == ["a", "b"]
    with pytest.raises(InputError, match="unknown stage 'zzz'"):
        runner.select_stages(["zzz"])
