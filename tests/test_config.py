"""Params loading: defaults, overrides, and one clear error per kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crmlab.config import (
    DEFAULT_PARAMS,
    PROJ_ROOT,
    apply_overrides,
    load_params,
    params_from_dict,
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


# --- hostile params: impossible dates, reader options, long names, zones, keys -------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("periods: {observation_end: 2024-02-30}", "'periods.observation_end': '2024-02-30' is not a date"),
        ("periods: {observation_end: '2024-02-30'}", "'periods.observation_end': '2024-02-30' is not a date"),
        ("periods: {calibration_end: 2023-02-29}", "'periods.calibration_end': '2023-02-29' is not a date"),
        ("periods: {observation_end: 2024-13-01}", "'periods.observation_end': '2024-13-01' is not a date"),
        ("periods: {observation_end: 2024-01-01T25:00:00}", "is not a date"),
    ],
    ids=["feb-30", "feb-30-quoted", "feb-29-non-leap", "month-13", "hour-25"],
)
def test_impossible_dates_are_params_errors_not_crashes(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text + "\n")
    with pytest.raises(InputError, match=message):
        load_params(path)


def test_valid_unquoted_dates_still_load(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("periods: {calibration_end: 2024-02-29, observation_end: 2024-12-31}\n")
    assert load_params(path).periods.calibration_end == "2024-02-29"


@pytest.mark.parametrize(
    "reader, message",
    [
        ({"bogus": 1}, "unknown reader option 'bogus'"),
        ({"skiprow": 1}, "did you mean 'skiprows'"),
        ({"dtype": "int"}, "option 'dtype' cannot be set here"),
        ({"sep": ";"}, "use the section key 'sep'"),
        ({"encoding": "latin-1"}, "use the section key 'encoding'"),
    ],
    ids=["unknown", "typo", "dtype", "sep", "encoding"],
)
def test_reader_options_are_checked(reader, message):
    with pytest.raises(InputError, match=message):
        params_from_dict({"churn": {"path": "x.csv", "target": "t", "reader": reader}})
    assert params_from_dict({"churn": {"path": "x.csv", "target": "t", "reader": {"skiprows": 2}}})


@pytest.mark.parametrize("length, ok", [(1, True), (100, True), (101, False), (300, False)])
def test_run_name_length_is_bounded(length, ok):
    raw = {"run_name": "r" * length}
    if ok:
        assert params_from_dict(raw).run_name == "r" * length
    else:
        with pytest.raises(InputError, match=f"'run_name': is {length} characters long; at most 100"):
            params_from_dict(raw)


@pytest.mark.parametrize("zone, ok", [("UTC", True), ("Asia/Shanghai", True), ("Mars/Olympus", False),
                                      ("../../etc/passwd", False), ("", False)])
def test_timezone_must_be_a_zone_name(zone, ok):
    raw = {"transactions": {"path": "x.csv", "columns": {"customer_id": "a", "date": "b", "amount": "c"},
                            "timezone": zone}}
    if ok:
        assert params_from_dict(raw).transactions.timezone == zone
    else:
        with pytest.raises(InputError, match="'transactions.timezone'"):
            params_from_dict(raw)


@pytest.mark.parametrize("kind", ["under-a-file", "file-itself"])
def test_check_writable_names_the_key(tmp_path, kind):
    from crmlab.config import check_writable

    (tmp_path / "f").write_text("x")
    target = tmp_path / "f" / "deeper" if kind == "under-a-file" else tmp_path / "f"
    p = params_from_dict({"run_name": "x", "paths": {"outputs": str(target), "processed": str(tmp_path / "ok")}})
    with pytest.raises(InputError, match="key 'paths.outputs': .* is a file, not a folder"):
        check_writable(p)
    assert not (tmp_path / "ok").exists()  # checking creates nothing


@pytest.mark.parametrize("content, message", [("short", "at least 16"), (None, "cannot read the key")])
def test_privacy_key_file(tmp_path, monkeypatch, content, message):
    from crmlab import privacy
    from crmlab.config import apply_privacy

    monkeypatch.setenv(privacy.KEY_ENV, "")  # restored (removed) after the test ...
    monkeypatch.delenv(privacy.KEY_ENV)  # ... though apply_privacy sets it below
    key = tmp_path / "key"
    if content is not None:
        key.write_text(content)
    p = params_from_dict({"privacy": {"key_file": str(key)}})
    with pytest.raises(InputError, match=message):
        apply_privacy(p)
    key.write_text("a-long-enough-secret-key\n")
    apply_privacy(p)
    assert __import__("os").environ[privacy.KEY_ENV] == "a-long-enough-secret-key"


# --- frozen, typed sections; defaults in one place --------------------------------------------

MUTATIONS = {
    "set-key": lambda p: p.segmentation.__setitem__("seed", 1),
    "set-attribute": lambda p: setattr(p.segmentation, "seed", 1),
    "delete-key": lambda p: p.segmentation.__delitem__("seed"),
    "delete-attribute": lambda p: delattr(p.segmentation, "seed"),
    "nested-section": lambda p: p.segmentation.tiers.__setitem__("high", 0.1),
    "update": lambda p: p.value.update(margin=0.5),
    "setdefault": lambda p: p.report.setdefault("currency", "$"),
    "pop": lambda p: p.report.pop("currency"),
    "top-level": lambda p: p.__setitem__("run_name", "other"),
    "list-append": lambda p: p.segmentation.k_range.append(9),
    "list-item": lambda p: p.report.watch_tiers.__setitem__(0, "low"),
    "open-mapping": lambda p: p.survey.constructs.__setitem__("New", ["X"]),
}


@pytest.mark.parametrize("mutate", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_validated_sections_refuse_mutation(mutate):
    from crmlab.config import plain

    p = load_params(DEFAULT_PARAMS)
    before = plain(p)
    with pytest.raises(TypeError, match="params are read-only"):
        mutate(p)
    assert plain(p) == before


def test_the_refusal_names_the_dotted_key():
    p = load_params(DEFAULT_PARAMS)
    with pytest.raises(TypeError, match=r"cannot set 'segmentation\.tiers\.high'"):
        p.segmentation.tiers["high"] = 0.1


def test_frozen_params_still_dump_and_copy_as_plain_values():
    import copy
    import json
    import pickle

    from crmlab.config import plain

    p = load_params(DEFAULT_PARAMS)
    assert json.loads(json.dumps(p)) == plain(p)
    assert yaml.safe_load(yaml.safe_dump(plain(p))) == p
    assert copy.deepcopy(p) == p and pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(TypeError):  # copies are frozen too
        copy.deepcopy(p).segmentation["seed"] = 1
    changed = {**p.segmentation, "seed": 7}  # the way to another value: a plain copy
    assert changed["seed"] == 7 and p.segmentation.seed == load_params(DEFAULT_PARAMS).segmentation.seed


def test_values_have_the_declared_types():
    p = params_from_dict({"transactions": MINIMAL_TX, "value": {"margin": 1}})
    assert type(p.value.margin) is float and p.value.margin == 1.0  # number() -> float
    assert type(p.segmentation.seed) is int
    assert type(p.transactions.max_amount) is float


def test_default_comes_from_the_schema():
    from crmlab.config import SCHEMA, default

    assert default("segmentation.seed") == SCHEMA.keys["segmentation"].keys["seed"].default == 42
    assert default("segmentation.tiers.high") == 0.5
    assert default("segmentation.k_range") == [2, 8]
    assert default("segmentation.k") is None
    assert default("report.watch_tiers") == params_from_dict({}).report.watch_tiers


@pytest.mark.parametrize(
    "dotted, message",
    [("segmentation.nope", "no params key"), ("segmentation", "is a section"),
     ("survey.outcome", "is required")],
    ids=["unknown", "section", "required"],
)
def test_default_of_something_without_one(dotted, message):
    from crmlab.config import default

    with pytest.raises(KeyError, match=message):
        default(dotted)
