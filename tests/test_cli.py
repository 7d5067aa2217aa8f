"""The command line as a scheduler sees it: exit codes and one-line errors, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


def crmlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crmlab.cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_stages_lists_the_chain_in_order():
    out = crmlab("stages")
    assert out.returncode == 0
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("1. cleaning") and "01_data_cleaning.ipynb" in lines[0]


def test_validate_default_params():
    out = crmlab("validate", "--params", "params/default.yaml")
    assert out.returncode == 0, out.stderr
    assert "params and inputs are valid" in out.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--set", "transactions.columns.amount=dollars"], "CDNOW_master.txt: mapped column 'dollars' not found"),
        (["--set", "transactions.path=data/raw/nope.csv"], "data/raw/nope.csv: file not found"),
        (["--set", "transactions.colour=red"], "unknown key 'transactions.colour'"),
        (["--set", "survey.constructs.Image=[IMAG1, IMAGX]"], "mobi.csv: survey item column 'IMAGX' not found"),
        (["--set", "churn.target=left"], "telco_churn.csv: churn column 'left' not found"),
    ],
    ids=["mapped-column", "missing-file", "unknown-key", "survey-item", "churn-target"],
)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_input_is_one_error_line_and_exit_2(command, args, expected):
    out = crmlab(command, "--params", "params/default.yaml", *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert expected in lines[0]
    assert "Traceback" not in out.stderr


def test_missing_params_file():
    out = crmlab("run", "--params", "params/nope.yaml")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: params/nope.yaml: params file not found"
