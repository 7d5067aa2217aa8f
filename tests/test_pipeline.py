"""End to end: `crmlab run` on the small params, as cron would call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crmlab.engine import bucket_folders, read_parquet
from crmlab.stages import STAGES

from conftest import ROOT

pytestmark = pytest.mark.slow


def crmlab(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crmlab.cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=timeout,
    )


def _where(tmp: Path) -> list[str]:
    return ["--set", f"paths.processed={tmp / 'processed'}", "--set", f"paths.outputs={tmp / 'outputs'}"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    out = crmlab("run", "--params", "params/test.yaml", "--no-progress", *_where(tmp))
    return tmp, out


def test_chain_runs_and_leaves_every_product(first_run):
    tmp, out = first_run
    assert out.returncode == 0, out.stderr[-3000:]
    products = tmp / "processed" / "test"
    for stage in STAGES:
        for name in stage.writes:
            assert (products / name).exists(), f"{stage.name} did not produce {name}"
    run_dir = (tmp / "outputs" / "test" / "latest").resolve()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "success"
    assert {k: v["status"] for k, v in manifest["stages"].items()} == {s.name: "success" for s in STAGES}
    assert set(manifest["inputs"]) == {"transactions", "survey", "churn", "interactions"}
    for i, stage in enumerate(STAGES, 1):
        assert (run_dir / f"{i:02d}_{stage.name}.ipynb").exists()
        html = (run_dir / f"{i:02d}_{stage.name}.html").read_text()
        assert "stage_context(" not in html, "HTML must hide code"
    assert list((run_dir / "figures").glob("*.png")), "figures are saved in the run folder"
    assert f"run folder: {run_dir}" in out.stdout


def test_cleaning_accounts_for_every_row(first_run):
    tmp, _ = first_run
    products = tmp / "processed" / "test"
    report = json.loads((products / "cleaning_report.json").read_text())
    raw_rows = sum(1 for _ in (ROOT / "tests/data/cdnow_small.txt").open()) - 1
    assert report["rows_in"] == raw_rows
    clean = pd.read_parquet(products / "transactions.parquet")
    quarantine = pd.read_parquet(products / "quarantine.parquet")
    assert len(clean) == report["rows_clean"] and len(quarantine) == report["rows_quarantined"]
    assert report["rows_in"] == len(clean) + len(quarantine)
    assert sum(report["by_reason"].values()) == len(quarantine)


def test_interactions_account_for_every_row_and_feed_every_customer(first_run):
    from crmlab.interactions.features import feature_columns

    tmp, _ = first_run
    products = tmp / "processed" / "test"
    raw = pd.read_csv(ROOT / "tests/data/interactions_small.csv", dtype=str, keep_default_na=False)
    quarantine = pd.read_parquet(products / "interaction_quarantine.parquet")
    summary = json.loads((products / "interaction_metrics.json").read_text())
    assert len(quarantine) > 0 and set(quarantine["reason"]) >= {"duplicate", "unknown_customer"}
    features = pd.read_parquet(products / "customer_interactions.parquet")
    customers = pd.read_parquet(products / "customers.parquet")
    cols = feature_columns(summary["window_days"])
    # today's features, their day, then the same taken at calibration_end for the churn backtest
    assert list(features.columns) == [*cols, "as_of", *("backtest_" + c for c in cols[1:]), "backtest_as_of"]
    assert (features["backtest_as_of"] < features["as_of"]).all()
    assert summary["simulated"] is False and 0 <= summary["kpis"]["sentiment_mean"] <= 1  # tests/data is not the demo
    assert features["customer_id"].tolist() == customers["customer_id"].astype(str).tolist()
    # clean + quarantined = rows read: the clean rows are counted in the JSON's type table
    clean = sum(summary["reading"]["types"].values())
    assert clean + len(quarantine) == len(raw)
    accuracy = summary["sentiment"]["accuracy"]
    assert 0.7 < accuracy["chinese"]["accuracy"] < 1 and accuracy["chinese"]["sampled"] == 3000
    assert 0.5 < accuracy["english"]["accuracy_when_scored"] < 1
    camp = summary["campaign"]
    assert camp["estimable"] and camp["conversion"]["low"] <= 0 <= camp["conversion"]["high"], "the placebo"
    assert not any(c in (products / "interaction_metrics.json").read_text() for c in ("13800138000", "fan@example.com"))


def test_skipped_stage_is_said(tmp_path):
    out = crmlab(
        "run", "--params", "params/test.yaml", "--no-progress", "--only", "cleaning",
        "--set", "survey=null", *_where(tmp_path),
    )
    assert out.returncode == 0, out.stderr[-2000:]


def test_messy_export_keeps_personal_data_out_of_every_output(tmp_path):
    params = ROOT / "tests" / "data" / "messy_params.yaml"
    out = crmlab("run", "--params", str(params), "--no-progress", "--only", "cleaning", *_where(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    raw = pd.read_csv(ROOT / "tests" / "data" / "messy_export_gbk.csv", encoding="gb18030", dtype=str)
    secrets = set()
    for col in ("手机", "邮箱", "姓名", "备用联系"):  # phones, e-mails, names, an undeclared e-mail column
        secrets |= set(raw[col].dropna())
    assert len(secrets) > 20
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".parquet" for p in files)
    for path in files:
        data = path.read_bytes()
        for s in secrets:
            assert s.encode() not in data, f"{s} leaked into {path}"
    report = json.loads((tmp_path / "processed" / "messy" / "cleaning_report.json").read_text())
    assert (report["rows_in"], report["rows_clean"], report["rows_quarantined"]) == (20, 7, 13)


def test_failed_run_keeps_latest(first_run, tmp_path):
    tmp, _ = first_run
    latest = tmp / "outputs" / "test" / "latest"
    before = os.readlink(latest)
    out = crmlab(
        "run", "--params", "params/test.yaml", "--no-progress", "--only", "cleaning",
        "--set", "transactions.columns.amount=price", *_where(tmp),
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: {ROOT / 'tests/data/cdnow_small.txt'}: mapped column 'price' not found "
        "(columns: customer_id, date, number_of_cds, dollar_value)"
    ]
    assert os.readlink(latest) == before


def test_concurrent_runs_of_different_names_share_nothing(tmp_path):
    params = str(ROOT / "tests" / "data" / "messy_params.yaml")
    cmd = [sys.executable, "-m", "crmlab.cli", "run", "--params", params, "--no-progress",
           "--only", "cleaning", *_where(tmp_path)]
    procs = [subprocess.Popen([*cmd, "--set", f"run_name={name}"], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in ("shop_a", "shop_b")]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-1500:] for o in outs]
    for name in ("shop_a", "shop_b"):
        run_dir = (tmp_path / "outputs" / name / "latest").resolve()
        manifest = json.loads((run_dir / "manifest.json").read_text())
        assert manifest["run_name"] == name and manifest["status"] == "success"
        assert (tmp_path / "processed" / name / "transactions.parquet").exists()
        assert not list((tmp_path / "processed" / name).glob(".staging-*"))


def test_dask_engine_gives_the_pandas_products(first_run, tmp_path):
    pytest.importorskip("distributed")
    tmp, out = first_run
    assert out.returncode == 0, out.stderr[-2000:]
    run = crmlab("run", "--params", "params/test.yaml", "--no-progress", "--only", "cleaning,segmentation",
                 "--set", "engine.name=dask", *_where(tmp_path))
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads(((tmp_path / "outputs" / "test" / "latest").resolve() / "manifest.json").read_text())
    assert manifest["params"]["engine"]["name"] == "dask"
    dask_products, pandas_products = tmp_path / "processed" / "test", tmp / "processed" / "test"
    # on Dask the workers write the clean rows as a customer-bucketed folder and the
    # quarantine as a folder of parts: the same rows, in another order
    assert bucket_folders(dask_products / "transactions.parquet")
    assert (pandas_products / "transactions.parquet").is_file()
    for name, order in (("transactions.parquet", ["customer_id", "date", "amount"]),
                        ("quarantine.parquet", ["source_row"]), ("customers.parquet", None)):
        got, expected = (read_parquet(folder / name) for folder in (dask_products, pandas_products))
        if order:
            got, expected = (df.sort_values(order, kind="stable", ignore_index=True) for df in (got, expected))
        pd.testing.assert_frame_equal(got, expected)
    for key, value in json.loads((pandas_products / "cleaning_report.json").read_text()).items():
        if key == "engine":
            continue
        got = json.loads((dask_products / "cleaning_report.json").read_text())[key]
        assert got == (pytest.approx(value, rel=1e-12) if key.startswith("amount_") else value), key
