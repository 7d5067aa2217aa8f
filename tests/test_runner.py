"""The runner on tiny throw-away notebooks: folders, manifest, latest, failures, locking."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from crmlab import cli, runner, runstore, stages
from crmlab.errors import InputError
from crmlab.stages import Stage

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


def _ctx(stage: str) -> str:
    """Code opening a toy notebook: its context, for a stage declared inline.

    The kernel is another process and does not see the test's monkeypatched registry, so
    the notebook passes its :class:`Stage` itself.
    """
    return (
        "from crmlab.context import stage_context\n"
        "from crmlab.stages import Stage\n"
        f"ctx = stage_context({stage}, params_file, overrides, run_dir, processed_dir)\n"
    )


STAGE_A = Stage("a", "01_a.ipynb", None, writes=("a.txt",))
STAGE_B = Stage("b", "02_b.ipynb", None, reads=("a.txt",), writes=("b.txt",))
WRITE = _ctx(repr(STAGE_A)) + (
    "p = ctx.params\n"
    "ctx.output('a.txt').write_text(p['run_name'] + ':' + str(p.get('periods')))\n"
    "(ctx.figures / 'f.txt').write_text('fig')\n"
    "print('SECRET_CODE_LINE' if False else 'stage output visible')"
)
READ = _ctx(repr(STAGE_B)) + (
    "text = ctx.input('a.txt').read_text()\n"
    "ctx.output('b.txt').write_text(text.upper())"
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
    chain = (
        STAGE_A,
        STAGE_B,
        Stage("boom", "03_boom.ipynb", "survey"),
        Stage("bad", "04_bad.ipynb", "churn"),
    )
    monkeypatch.setattr(stages, "STAGES", chain)
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
    # each page was rendered beside the next stage, and waited for before success
    assert all(manifest["stages"][n]["html_seconds"] >= 0 for n in ("a", "b"))
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


def test_a_failed_html_page_fails_the_run_after_the_other_stages_ran(toy_chain, capsys, monkeypatch):
    # the pages are rendered on a thread while the next stage runs: a page that fails still
    # fails the run (a full disk: exit 2, one line; latest untouched, nothing promoted)
    import errno

    tmp, base, write_params = toy_chain
    real = runner.export_html

    def export(notebook, target, language="en"):
        if notebook.name.startswith("01_"):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real(notebook, target, language=language)

    monkeypatch.setattr(runner, "export_html", export)
    params = write_params(base)
    assert cli.main(["run", "--params", str(params), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: ") and err.endswith("01_a.html: No space left on device")
    runs = tmp / "outputs" / "toy"
    assert not (runs / "latest").exists() and not (tmp / "processed" / "toy" / "a.txt").exists()
    run_dir = next(d for d in runs.iterdir() if d.is_dir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["stages"]["a"]["status"] == "failed"
    assert manifest["stages"]["a"]["error"].startswith("HTML export: [Errno 28] No space left")
    assert manifest["stages"]["b"]["status"] == "success" and (run_dir / "02_b.html").exists()


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
    assert "needed by stage 'b' but not found; run the 'a' stage first" in capsys.readouterr().err
    assert cli.main(["run", "--params", str(params), "--only", "a", "--no-progress"]) == 0
    assert cli.main(["run", "--params", str(params), "--only", "b", "--no-progress"]) == 0
    assert (tmp / "processed" / "toy" / "b.txt").exists()


def test_lock_refuses_a_second_run_of_the_same_name(toy_chain):
    tmp, base, write_params = toy_chain
    params = write_params(base)
    folder = tmp / "outputs" / "toy"
    with runstore.run_lock(folder):
        with pytest.raises(InputError, match="another run of this run_name is in progress"):
            runner.run(params, only=["a"], progress=False)
    # a stale lock (dead pid) is taken over
    (folder / ".lock").write_text("999999999")
    assert runner.run(params, only=["a"], progress=False).status == "success"


def test_select_stages_keeps_chain_order(toy_chain):
    assert [s.name for s in stages.select_stages(["b,a"])] == ["a", "b"]
    with pytest.raises(InputError, match="unknown stage 'zzz'"):
        stages.select_stages(["zzz"])


# --- report.html, history.csv, run.log and the run folders the report reads -------------------

REPORT_BODY = _ctx("Stage('report', '05_report.ipynb', None)") + (
    "import matplotlib\n"
    "matplotlib.use('agg')\n"
    "import matplotlib.pyplot as plt\n"
    "from IPython.display import Image, display\n"
    "from crmlab.io import save_figure, write_json\n"
    "fig, ax = plt.subplots(figsize=(2, 2))\n"
    "ax.plot([0, 1], [1, 0])\n"
    "png = save_figure(fig, ctx.figures, 'toy')\n"
    "display(Image(filename=str(png)))\n"
    "write_json({'observation_end': '1998-01-31', 'kpis': {'customers': len(ctx.params.run_name)}},\n"
    "           ctx.run_dir / 'kpis.json')\n"
    "print('report body visible')"
)


@pytest.fixture
def toy_report(toy_chain, monkeypatch):
    tmp, base, write_params = toy_chain
    nb_path = runner.NOTEBOOKS_DIR / "05_report.ipynb"
    _notebook(nb_path, REPORT_BODY)
    nb = nbformat.read(nb_path, as_version=4)
    method = nbformat.v4.new_markdown_cell("SECRET_METHOD formula $k_t - k_{t-1}$")
    method.metadata["tags"] = ["method"]
    nb.cells.insert(1, method)
    nbformat.write(nb, nb_path)
    monkeypatch.setattr(stages, "STAGES", (*stages.STAGES, Stage("report", "05_report.ipynb", None)))
    return tmp, base, write_params


def test_report_stage_leaves_an_offline_report_and_history(toy_report, capsys):
    tmp, base, write_params = toy_report
    params = write_params(base)
    for _ in range(2):
        assert cli.main(["run", "--params", str(params), "--only", "a,report", "--no-progress"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    runs = tmp / "outputs" / "toy"
    run_dir = runs / os.readlink(runs / "latest")
    assert out[-1] == f"report: {run_dir / 'report.html'}"
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "report body visible" in html and "data:image/png;base64," in html
    assert "<script" not in html, "report.html must not load or run any script"
    assert not re.search(r"(src|href)=[\"']?https?:", html), "no external resources"
    assert "SECRET_METHOD" not in html and "stage_context(" not in html
    assert "<title>crmlab report: toy" in html
    assert "SECRET_METHOD" in (run_dir / "05_report.html").read_text(encoding="utf-8")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["stages"]["report"]["report"] == "report.html"
    history = (runs / "history.csv").read_text().splitlines()
    assert len(history) == 3 and history[0].startswith("run_id,finished,observation_end,stages,customers")
    first, second = (row.split(",") for row in history[1:])
    assert second[0] == run_dir.name and first[0] != second[0]
    assert second[2:5] == ["1998-01-31", "a;report", "3"]  # from kpis.json: len('toy')


def test_failed_run_logs_the_error_and_leaves_history(toy_report, capsys):
    tmp, base, write_params = toy_report
    assert cli.main(["run", "--params", str(write_params(base)), "--only", "a", "--no-progress"]) == 0
    history = (tmp / "outputs" / "toy" / "history.csv").read_text()
    bad = write_params({**base, "survey": {
        "path": str(Path(__file__).parents[1] / "data/raw/ecsi/mobi.csv"),
        "constructs": {"Satisfaction": ["CUSA1"]}, "outcome": "Satisfaction",
    }}, "bad.yaml")
    assert cli.main(["run", "--params", str(bad), "--only", "boom", "--no-progress"]) == 1
    assert (tmp / "outputs" / "toy" / "history.csv").read_text() == history
    folders = [d for d in (tmp / "outputs" / "toy").iterdir() if (d / "manifest.json").exists()]
    manifests = {d: json.loads((d / "manifest.json").read_text()) for d in folders}
    failed = [d for d, m in manifests.items() if m["status"] == "failed"]
    assert len(failed) == 1
    log_text = (failed[0] / "run.log").read_text()
    assert "ERROR crmlab.runner: run failed: stage 'boom' failed: RuntimeError: boom in the notebook" in log_text


REPORT_STAGE = Stage("report", "06_report.ipynb", None, optional_reads=("a.json", "b.json", "c.json"))


def _report_ctx(tmp: Path, run: str, staging: bool = True):
    from crmlab.config import params_from_dict
    from crmlab.context import StageContext

    params = params_from_dict({"run_name": "toy", "paths": {
        "processed": str(tmp / "processed"), "outputs": str(tmp / "outputs")}})
    final = tmp / "processed" / "toy"
    processed = runstore.staging_dir(final, run) if staging else final
    run_dir = tmp / "outputs" / "toy" / run
    for d in (processed, run_dir):
        d.mkdir(parents=True, exist_ok=True)
    return StageContext(REPORT_STAGE, params, processed, run_dir, final if staging else None)


@pytest.fixture
def report_stages(monkeypatch):
    chain = (
        Stage("a", "01_a.ipynb", None, writes=("a.json",)),
        Stage("b", "02_b.ipynb", None, writes=("b.json",)),
        Stage("c", "03_c.ipynb", "survey", writes=("c.json",)),
        REPORT_STAGE,
    )
    monkeypatch.setattr(stages, "STAGES", chain)


def test_load_report_inputs_uses_this_and_earlier_runs_but_never_skipped_stages(tmp_path, report_stages):
    from crmlab.io import write_json

    ctx = _report_ctx(tmp_path, "r2")
    write_json({"from": "this run"}, ctx.processed / "a.json")
    write_json({"from": "earlier"}, ctx.fallback / "b.json")
    write_json({"from": "stale"}, ctx.fallback / "c.json")  # c is skipped: no survey section
    write_json({"stages": {"a": {"status": "success"}, "c": {"status": "skipped", "reason": "no survey"},
                           "report": {"status": "running"}}}, ctx.run_dir / "manifest.json")
    got = runstore.load_report_inputs(ctx)
    assert got.products == {"a.json": {"from": "this run"}, "b.json": {"from": "earlier"}, "c.json": None}
    assert got.overview["status"].tolist() == ["ran", "not in this run", "skipped"]
    assert got.missing_reasons() == {"c": "skipped: no survey (older product files are ignored)"}


def test_load_report_inputs_with_nothing_to_report(tmp_path, report_stages):
    with pytest.raises(InputError, match="no stage products to report on"):
        runstore.load_report_inputs(_report_ctx(tmp_path, "r1"))


def test_previous_run_skips_runs_without_report_state(tmp_path, report_stages):
    from crmlab.io import write_json

    parent = tmp_path / "outputs" / "toy"
    ctx = _report_ctx(tmp_path, "r3")
    for run in ("r1", "r2"):
        (parent / run).mkdir(parents=True)
    write_json({"kpis": {"customers": 7}}, parent / "r1" / runstore.KPIS_FILE)
    (parent / "history.csv").write_text("run_id,customers\nr1,7\nr2,\n")
    os.symlink("r2", parent / "latest")  # the newest run had no report stage
    prev = runstore.previous_run(ctx)
    assert prev.run_id == "r1" and prev.kpis == {"kpis": {"customers": 7}}
    assert prev.snapshot is None and prev.inputs is None
    (parent / "latest").unlink()
    (parent / "latest").write_text("r3\n")  # text-file latest pointing at this very run
    (parent / "history.csv").write_text("run_id\nr3\n")
    write_json({"kpis": {}}, parent / "r3" / runstore.KPIS_FILE)
    assert runstore.previous_run(ctx) is None


def test_read_history_reports_a_broken_file(tmp_path):
    assert runstore.read_history(tmp_path).empty
    (tmp_path / runstore.HISTORY_FILE).write_text("customers\n3\n")
    with pytest.raises(InputError, match="history.csv: column 'run_id' missing"):
        runstore.read_history(tmp_path)


def test_products_of_a_skipped_stage_are_removed_but_not_those_outside_the_run(toy_chain, monkeypatch):
    tmp, base, write_params = toy_chain
    # the toy 'boom' stage (needs survey:) now declares a product an earlier run made
    chain = tuple(
        Stage(s.name, s.notebook, s.section, s.reads, s.optional_reads, ("boom.txt",)) if s.name == "boom" else s
        for s in stages.STAGES
    )
    monkeypatch.setattr(stages, "STAGES", chain)
    products = tmp / "processed" / "toy"
    products.mkdir(parents=True)
    (products / "boom.txt").write_text("from a run that had a survey")
    params = write_params(base)
    assert runner.run(params, only=["a"], progress=False).status == "success"
    assert (products / "boom.txt").exists()  # 'boom' was not part of this run: kept
    result = runner.run(params, progress=False)  # boom is skipped (no survey:): its file is stale
    assert result.status == "success"
    assert not (products / "boom.txt").exists()
    assert (products / "a.txt").exists() and (products / "b.txt").exists()
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["removed_stale_products"] == ["boom.txt"]


# --- hostile operation: empty --only, SIGTERM, leftovers of killed runs ---------------------


@pytest.mark.parametrize("only", ["", ",", " , ", ",,"], ids=["empty", "comma", "spaces", "commas"])
def test_only_naming_no_stage_is_refused(toy_chain, capsys, only):
    tmp, base, write_params = toy_chain
    params = write_params(base)
    assert cli.main(["run", "--params", str(params), "--only", only, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --only: no stage named")
    assert not (tmp / "outputs" / "toy").exists()  # nothing ran, nothing recorded


TERM_SELF = (
    "import os, signal, time\n"
    "os.kill(os.getppid(), signal.SIGTERM)  # the runner is the kernel's parent\n"
    "time.sleep(60)"
)


@pytest.mark.parametrize("stage_index", [0, 1], ids=["first-stage", "second-stage"])
def test_sigterm_marks_the_run_failed_and_exits_143(toy_chain, capsys, monkeypatch, stage_index):
    tmp, base, write_params = toy_chain
    params = write_params(base)
    assert cli.main(["run", "--params", str(params), "--only", "a", "--no-progress"]) == 0
    latest = tmp / "outputs" / "toy" / "latest"
    before = os.readlink(latest)
    capsys.readouterr()
    _notebook(runner.NOTEBOOKS_DIR / "09_term.ipynb", TERM_SELF)
    term = Stage("term", "09_term.ipynb", None)
    chain = [stages.STAGES[0]] if stage_index else []
    monkeypatch.setattr(stages, "STAGES", (*chain, term))
    assert cli.main(["run", "--params", str(params), "--no-progress"]) == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "error: terminated (SIGTERM)"
    assert os.readlink(latest) == before
    run_dirs = [d for d in latest.parent.iterdir() if d.is_dir() and d.name not in ("latest", before)]
    manifest = json.loads((run_dirs[0] / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "SIGTERM" in manifest["error"]
    assert manifest["stages"]["term"]["status"] == "failed"
    assert not list((tmp / "processed" / "toy").glob(".staging-*"))
    import signal

    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored


@pytest.mark.parametrize("leftover", ["staging-folder", "staging-file", "latest-link", "running-manifest"])
def test_leftovers_of_a_killed_run_are_cleaned_by_the_next_run(toy_chain, leftover):
    tmp, base, write_params = toy_chain
    params = write_params(base)
    products, runs = tmp / "processed" / "toy", tmp / "outputs" / "toy"
    products.mkdir(parents=True)
    runs.mkdir(parents=True)
    killed = runs / "20200101T000000Z-dead"
    if leftover == "staging-folder":
        (products / ".staging-20200101T000000Z-dead").mkdir()
        (products / ".staging-20200101T000000Z-dead" / "a.txt").write_text("half")
    elif leftover == "staging-file":
        (products / ".staging-x").write_text("junk")
    elif leftover == "latest-link":
        os.symlink("20200101T000000Z-dead", runs / ".latest-20200101T000000Z-dead")
    else:
        killed.mkdir()
        (killed / "manifest.json").write_text(json.dumps({"status": "running", "stages": {}}))
    assert runner.run(params, only=["a"], progress=False).status == "success"
    assert not list(products.glob(".staging-*")) and not list(runs.glob(".latest-*"))
    if leftover == "running-manifest":
        doc = json.loads((killed / "manifest.json").read_text())
        assert doc["status"] == "failed" and "killed" in doc["error"]


@pytest.mark.parametrize(
    "before, after",
    [("file", "folder"), ("folder", "file"), ("folder", "folder"), ("file", "file")],
    ids=["pandas-then-dask", "dask-then-pandas", "dask-twice", "pandas-twice"],
)
def test_a_product_may_change_from_file_to_folder(tmp_path, before, after):
    # the pandas engine writes transactions.parquet as a file, Dask cleaning as a folder
    final, staging = tmp_path / "final", tmp_path / "staging"

    def make(where: Path, kind: str, text: str) -> None:
        where.mkdir(parents=True, exist_ok=True)
        if kind == "file":
            (where / "transactions.parquet").write_text(text)
        else:
            (where / "transactions.parquet" / "customer_bucket=1").mkdir(parents=True)
            (where / "transactions.parquet" / "customer_bucket=1" / "part.0.parquet").write_text(text)

    make(final, before, "old")
    make(staging, after, "new")
    assert runstore.promote(staging, final) == []
    target = final / "transactions.parquet"
    got = target.read_text() if after == "file" else (target / "customer_bucket=1" / "part.0.parquet").read_text()
    assert got == "new" and target.is_dir() == (after == "folder")
    assert not staging.exists()


def test_a_folder_product_no_longer_made_is_removed(tmp_path):
    final, staging = tmp_path / "final", tmp_path / "staging"
    (final / "quarantine.parquet").mkdir(parents=True)
    (final / "quarantine.parquet" / "part.0.parquet").write_text("old")
    staging.mkdir()
    assert runstore.promote(staging, final, covered=["quarantine.parquet"]) == ["quarantine.parquet"]
    assert not (final / "quarantine.parquet").exists()
