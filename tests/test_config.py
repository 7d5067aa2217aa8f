"""Params loading: defaults, overrides, and one clear error per kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmlab.config import (
    DEFAULT_PARAMS,
    PROJ_ROOT,
    apply_overrides,
    load_params,
    params_from_dict,
    stage_context,
)
from crmlab.errors import InputError

MINIMAL_TX = {
    "path": "data/raw/cdnow/CDNOW_master.txt",
    "columns": {"customer_id": "customer_id", "date": "date", "amount": "dollar_value"},
}


def test_default_params_load_with_defaults_filled_and_paths_absolute():
    p = load_params(DEFAULT_PARAMS)
    assert p.run_name == "default"
    assert p.transactions.columns.amount == "dollar_value"
    assert Path(p.transactions.path) == PROJ_ROOT / "data/raw/cdnow/CDNOW_master.txt"
    assert Path(p.paths.processed) == PROJ_ROOT / "data/processed"
    assert p.transactions.encoding == "auto" and p.transactions.reader == {}
    assert p.periods.calibration_end == "1997-09-30"
    assert p.survey.constructs["Complaints"] == ["CUSCO"]


def test_absent_optional_sections_are_none():
    p = params_from_dict({"transactions": MINIMAL_TX})
    assert p.survey is None and p.churn is None and p.periods is None
    assert p.segmentation.k_range == [2, 8]  # stage options default in full


@pytest.mark.parametrize(
    "overrides, check",
    [
        (["segmentation.k_range=[3, 6]"], lambda p: p.segmentation.k_range == [3, 6]),
        (["periods.observation_end=1998-03-31"], lambda p: p.periods.observation_end == "1998-03-31"),
        (["run_name=weekly"], lambda p: p.run_name == "weekly"),
        (["transactions.columns.quantity=null"], lambda p: p.transactions.columns.quantity is None),
    ],
    ids=["list", "date", "top-level", "null"],
)
def test_overrides_apply_after_the_file(overrides, check):
    assert check(load_params(DEFAULT_PARAMS, overrides))


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"transactions": {**MINIMAL_TX, "colums": {}}}, "unknown key 'transactions.colums' (did you mean 'transactions.columns'?)"),
        ({"transactions": {"path": "x.csv", "columns": {"date": "d", "amount": "a"}}}, "missing required key 'transactions.columns.customer_id'"),
        ({"segmentation": {"k_range": 4}}, "key 'segmentation.k_range': expected a list"),
        ({"segmentation": {"k_range": [6, 3]}}, "'segmentation.k_range': 6 > 3"),
        ({"periods": {"observation_end": "30/06/1998"}}, "key 'periods.observation_end': '30/06/1998' is not a date"),
        ({"periods": {"calibration_end": "1998-07-01", "observation_end": "1998-06-30"}}, "must be before 'periods.observation_end'"),
        ({"run_name": "my run"}, "key 'run_name'"),
        ({"engine": {"name": "spark"}}, "key 'engine.name': 'spark' is not one of"),
        ({"survey": {"path": "s.csv", "constructs": {"A": ["a1"]}, "outcome": "B"}}, "key 'survey.outcome': 'B' is not one of the constructs"),
        ({"transactions": {**MINIMAL_TX, "decimal": ";"}}, "key 'transactions.decimal'"),
        ([1, 2], "'top level' must be a mapping"),
    ],
    ids=["unknown", "missing", "type", "order", "date", "periods", "slug", "choice", "outcome", "decimal", "not-a-mapping"],
)
def test_errors_name_the_file_and_the_key(raw, message):
    with pytest.raises(InputError) as info:
        params_from_dict(raw, source="my.yaml")
    assert str(info.value).startswith("my.yaml: ")
    assert message in str(info.value)


def test_yaml_syntax_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("run_name: [unclosed\n")
    with pytest.raises(InputError, match=r"bad.yaml: not valid YAML at line"):
        load_params(bad)
    with pytest.raises(InputError, match="nope.yaml: params file not found"):
        load_params(tmp_path / "nope.yaml")


@pytest.mark.parametrize("item", ["no_equals_sign", ".a=1", "run_name.x=1"], ids=["no-eq", "empty-part", "not-section"])
def test_bad_overrides(item):
    with pytest.raises(InputError, match="override"):
        apply_overrides({"run_name": "x"}, [item])


def test_overrides_do_not_mutate_the_input():
    raw = {"paths": {"outputs": "o"}}
    out = apply_overrides(raw, ["paths.outputs=p"])
    assert raw == {"paths": {"outputs": "o"}} and out["paths"]["outputs"] == "p"


def test_stage_context_by_hand_and_under_the_runner(tmp_path, write_params):
    params = write_params({"run_name": "t", "paths": {"processed": str(tmp_path / "pr"), "outputs": str(tmp_path / "out")}})
    ctx = stage_context(params)
    assert ctx.processed == tmp_path / "pr" / "t" and ctx.fallback is None
    assert ctx.figures == tmp_path / "out" / "t" / "interactive" / "figures" and ctx.figures.is_dir()
    (ctx.processed / "x.parquet").write_text("old")
    staged = stage_context(params, run_dir=tmp_path / "run", processed_dir=tmp_path / "stage")
    assert staged.find("x.parquet") == ctx.processed / "x.parquet"  # falls back to earlier runs
    (staged.processed / "x.parquet").write_text("new")
    assert staged.require("x.parquet", "cleaning") == tmp_path / "stage" / "x.parquet"
    with pytest.raises(InputError, match="run the 'cleaning' stage first"):
        staged.require("y.parquet", "cleaning")
