"""The command line as a scheduler sees it: exit codes and one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT


def crmlab(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CRMLAB_PSEUDONYM_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "crmlab.cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=env,
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
        (["--set", "interactions.columns.channel=kanal"],
         "interactions.csv: interactions.columns.channel column 'kanal' not found"),
        (["--set", "interactions.type_map={投诉: complaint}"],
         "interactions.csv: column 'type' (type) has 11 value(s) not in interactions.type_map"),
        (["--set", "interactions.type_map.投诉=grumble"], "'interactions.type_map"),
    ],
    ids=["mapped-column", "missing-file", "unknown-key", "survey-item", "churn-target",
         "interactions-column", "interactions-unmapped-type", "interactions-type-target"],
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


# --- hostile params and inputs: exit 2, one error line, no traceback -----------------------


def _sys_unwritable() -> str | None:
    """A folder even root cannot write in (sysfs), or None where there is none."""
    import tempfile

    for folder in ("/sys/kernel", "/sys"):
        try:
            fd, name = tempfile.mkstemp(dir=folder)
        except OSError:
            return folder
        os.close(fd)
        os.unlink(name)
    return None


def _case(name: str, tmp) -> tuple[list[str], str]:
    """Arguments (after the params) and the expected message of one bad-input case."""

    if name == "invalid-date-set":
        return ["--set", "periods.observation_end=2024-02-30"], "key 'periods.observation_end': '2024-02-30' is not a date"
    if name == "invalid-date-file":
        text = (ROOT / "params/test.yaml").read_text().replace('"1998-06-30"', "2024-02-30")
        (tmp / "p.yaml").write_text(text)
        return ["@" + str(tmp / "p.yaml")], "key 'periods.observation_end': '2024-02-30' is not a date"
    if name == "unknown-reader-option":
        return ["--set", "transactions.reader.bogus=1"], "unknown reader option 'bogus'"
    if name == "reader-option-owned":
        return ["--set", "churn.reader.dtype=int"], "option 'dtype' cannot be set here"
    if name == "long-run-name":
        return ["--set", "run_name=" + "r" * 300], "key 'run_name': is 300 characters long; at most 100"
    if name in ("outputs-under-file", "processed-under-file"):
        (tmp / "afile").write_text("x")
        key = name.split("-")[0]
        return ["--set", f"paths.{key}={tmp / 'afile' / 'sub'}"], f"key 'paths.{key}': {tmp / 'afile'} is a file, not a folder"
    if name in ("read-only-outputs", "read-only-processed"):
        ro = _sys_unwritable()
        if ro is None and os.geteuid() == 0:
            pytest.skip("no folder is read-only for root here")
        if ro is None:
            ro = str(tmp / "ro")
            os.mkdir(ro, 0o555)
        key = name.rsplit("-", 1)[1]
        return ["--set", f"paths.{key}={ro}/crmlab"], f"key 'paths.{key}': cannot write in"
    if name == "header-only":
        (tmp / "h.csv").write_text("customer_id,date,dollar_value,number_of_cds\n")
        return ["--set", f"transactions.path={tmp / 'h.csv'}", "--set", "transactions.date_format=null"], "h.csv: has a header but no data rows"
    if name == "dev-zero":
        return ["--set", "transactions.path=/dev/zero"], "/dev/zero: not a regular file"
    if name == "one-50mb-line":
        with open(tmp / "line.csv", "wb") as fh:
            fh.write(b"a," * (25 * 2**20))
        return ["--set", f"transactions.path={tmp / 'line.csv'}"], "line.csv: the first line is longer than 1 MB"
    if name == "too-large":
        return ["--set", "transactions.max_size_mb=0.01"], "cdnow_small.txt: file is 0 MB, above max_size_mb"
    if name == "bad-timezone":
        return ["--set", "transactions.timezone=Mars/Olympus"], "key 'transactions.timezone': 'Mars/Olympus' is not a time zone"
    if name == "short-key-file":
        (tmp / "k").write_text("short")
        return ["--set", f"privacy.key_file={tmp / 'k'}"], "key 'privacy.key_file': the key must be at least 16 characters"
    raise AssertionError(name)


CASES = [
    "invalid-date-set", "invalid-date-file", "unknown-reader-option", "reader-option-owned",
    "long-run-name", "outputs-under-file", "processed-under-file", "read-only-outputs",
    "read-only-processed",
    "header-only", "dev-zero", "one-50mb-line", "too-large", "bad-timezone", "short-key-file",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_hostile_params_and_inputs_exit_2_with_one_line(tmp_path, command, case):
    args, expected = _case(case, tmp_path)
    params = "params/test.yaml"
    if args and args[0].startswith("@"):
        params, args = args[0][1:], args[1:]
    where = ["--set", f"paths.processed={tmp_path / 'processed'}", "--set", f"paths.outputs={tmp_path / 'outputs'}"]
    out = crmlab(command, "--params", params, *where, *args)
    assert out.returncode == 2, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr[-2000:]
    assert expected in lines[0]
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "outputs").exists()  # refused before anything was written


def test_run_only_empty_is_refused():
    out = crmlab("run", "--params", "params/test.yaml", "--only", "")
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: --only: no stage named")


def test_run_only_a_stage_whose_input_is_not_made_yet(tmp_path):
    # segmentation reads cleaning's transactions.parquet: refused before any notebook runs
    out = crmlab("run", "--params", "params/test.yaml", "--only", "segmentation", "--no-progress",
                 "--set", f"paths.processed={tmp_path / 'processed'}",
                 "--set", f"paths.outputs={tmp_path / 'outputs'}")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "transactions.parquet: needed by stage 'segmentation'" in lines[0]
    assert "run the 'cleaning' stage first" in lines[0]
    assert not (tmp_path / "outputs").exists()
