"""Hostile input end to end: no script in any HTML, no formula in any CSV, no personal data.

One run of the whole chain on the small test data after a hostile rewrite: every customer
id starts with a script, a tag with an event handler or a spreadsheet formula; an unmapped
column header is an ``<img onerror>``; the survey gets a group column of scripts and
formulas; the churn table gets e-mail addresses as its id and as an extra column, and a
category whose levels are scripts and formulas. Then every file the run wrote is read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import RAW, ROOT

pytestmark = pytest.mark.slow

HOSTILE_HTML = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '"><svg onload=alert(3)>',
    "<iframe src=javascript:alert(4)>",
]
HOSTILE_FORMULA = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\")"]
HOSTILE = HOSTILE_HTML + HOSTILE_FORMULA
HEADER = "<img src=x onerror=alert(9)>"
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@(?:example\.(?:com|org))")
KEY = "test-key-for-pseudonyms-0123456789"


def _hostile_inputs(tmp: Path) -> Path:
    """Write the hostile copies of the test inputs and a params file naming them."""
    tx = pd.read_csv(ROOT / "tests/data/cdnow_small.txt", sep=r"\s+", dtype=str)
    ids = sorted(tx["customer_id"].unique())
    rename = {c: f"{HOSTILE[i % len(HOSTILE)]}{c}" for i, c in enumerate(ids)}
    tx["customer_id"] = tx["customer_id"].map(rename)
    tx[HEADER] = [HOSTILE[i % len(HOSTILE)] for i in range(len(tx))]
    tx.to_csv(tmp / "tx.csv", index=False)

    sv = pd.read_csv(RAW / "ecsi/mobi.csv", dtype=str)
    sv["segment"] = [HOSTILE[i % 3] if i % 2 else HOSTILE[5] for i in range(len(sv))]
    sv.to_csv(tmp / "survey.csv", index=False)

    ch = pd.read_csv(ROOT / "tests/data/telco_small.csv", dtype=str, keep_default_na=False)
    ch.insert(0, "account", [f"person{i}@example.com" for i in range(len(ch))])
    ch["backup_contact"] = [f"other{i}@example.org" for i in range(len(ch))]
    levels = {v: HOSTILE[i] for i, v in enumerate(sorted(ch["payment_method"].unique()))}
    ch["payment_method"] = ch["payment_method"].map(levels)
    ch.to_csv(tmp / "churn.csv", index=False)

    base = yaml.safe_load((ROOT / "params/test.yaml").read_text())
    base["paths"] = {"processed": str(tmp / "processed"), "outputs": str(tmp / "outputs")}
    base["transactions"] = {
        "path": str(tmp / "tx.csv"),
        "columns": {"customer_id": "customer_id", "date": "date", "amount": "dollar_value",
                    "quantity": "number_of_cds"},
        "date_format": "%Y%m%d",
    }
    base["survey"] = {**base["survey"], "path": str(tmp / "survey.csv"), "group": "segment"}
    base["churn"] = {**base["churn"], "path": str(tmp / "churn.csv"), "id": "account"}
    base.pop("interactions", None)  # its log's customers are CDNOW's, not these hostile ones
    (tmp / "key.txt").write_text(KEY + "\n")
    base["privacy"] = {"key_file": str(tmp / "key.txt")}
    path = tmp / "hostile.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    params = _hostile_inputs(tmp)
    env = {k: v for k, v in __import__("os").environ.items() if k != "CRMLAB_PSEUDONYM_KEY"}
    out = subprocess.run(
        [sys.executable, "-m", "crmlab.cli", "run", "--params", str(params), "--no-progress"],
        capture_output=True, text=True, cwd=ROOT, timeout=900, env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    runs = tmp / "outputs" / "test"
    run_dir = runs / (runs / "latest").readlink()
    return tmp, run_dir


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict] = []
        self.handlers: list[tuple[str, str]] = []
        self.js_urls: list[str] = []
        self.csp: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append((tag, name))
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.js_urls.append(value)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(a.get("content") or "")


def _parse(path: Path) -> _Tags:
    p = _Tags()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _template_script(attrs: dict) -> bool:
    """The two MathJax tags nbconvert's template puts in the head of a stage HTML."""
    src = attrs.get("src") or ""
    return src.startswith("https://cdnjs.cloudflare.com/ajax/libs/mathjax/") or \
        attrs.get("type") == "text/x-mathjax-config"


def test_no_script_or_event_handler_from_data_in_any_html(hostile_run):
    _, run_dir = hostile_run
    pages = sorted(run_dir.glob("*.html"))
    assert {p.name for p in pages} >= {"report.html", "01_cleaning.html", "04_satisfaction.html",
                                       "06_churn.html", "07_report.html"}
    for page in pages:
        tags = _parse(page)
        assert tags.handlers == [], f"{page.name}: event handler attributes {tags.handlers[:3]}"
        assert tags.js_urls == [], f"{page.name}: javascript: links"
        extra = [s for s in tags.scripts if not _template_script(s)]
        assert extra == [], f"{page.name}: script tags not from the template: {extra[:3]}"
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<svg onload" not in text
        assert tags.csp, f"{page.name}: no Content-Security-Policy"
    report = _parse(run_dir / "report.html")
    assert report.scripts == []
    assert "script-src 'none'" in report.csp[0] and "default-src 'none'" in report.csp[0]
    # the hostile values are shown, as text
    shown = " ".join(p.read_text(encoding="utf-8") for p in pages)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "&lt;img src=x onerror" in shown


def _formula(cell: str) -> bool:
    return cell.startswith(("=", "+", "-", "@", "\t", "\r")) and not re.fullmatch(
        r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cell)


def test_no_csv_cell_starts_with_a_formula(hostile_run):
    tmp, run_dir = hostile_run
    tables = sorted((run_dir / "tables").glob("*.csv")) + [run_dir.parent / "history.csv"]
    assert len(tables) > 20
    seen_hostile = 0
    for table in tables:
        df = pd.read_csv(table, dtype=str, keep_default_na=False, encoding="utf-8-sig", header=None)
        cells = [c for c in df.to_numpy().ravel() if isinstance(c, str)]
        bad = [c for c in cells if _formula(c)]
        assert bad == [], f"{table.name}: formula cells {bad[:3]}"
        seen_hostile += sum(c.startswith("'=") for c in cells)
    assert seen_hostile > 0, "the neutralised formulas should still be in the tables, quoted"
    # products keep the exact values: parquet is data, not a spreadsheet
    clean = pd.read_parquet(tmp / "processed" / "test" / "transactions.parquet")
    assert clean["customer_id"].str.startswith("=cmd|").any()
    assert clean["customer_id"].str.startswith("<script>").any()


def _all_text(path: Path) -> str:
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        return df.to_csv() + " ".join(map(str, df.columns))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return path.read_bytes().decode("latin-1")


def test_no_personal_data_in_any_output(hostile_run):
    tmp, run_dir = hostile_run
    files = [p for p in (tmp / "outputs").rglob("*") if p.is_file()]
    files += [p for p in (tmp / "processed").rglob("*") if p.is_file()]
    assert len(files) > 30
    for f in files:
        if f.suffix == ".png":
            continue
        hits = EMAIL_RE.findall(_all_text(f))
        assert hits == [], f"{f.relative_to(tmp)}: personal data {hits[:2]}"
        assert KEY not in _all_text(f)
    assert "backup_contact" not in (run_dir / "tables" / "churn_odds_ratios.csv").read_text()
    scores = pd.read_parquet(tmp / "processed" / "test" / "churn_scores.parquet")
    ids = scores.iloc[:, 0].astype(str)
    assert ids.str.fullmatch(r"pid_[0-9a-f]{20}").all()
    # the pseudonym is the keyed hash of the normalised address: mappable back with the key
    from crmlab.privacy import pseudonymise

    assert pseudonymise(pd.Series(["Person0@Example.com "]), KEY).iloc[0] in set(ids)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "success"


def test_broken_values_are_quarantined_or_repaired_by_a_real_run(tmp_path):
    """Classes that used to crash or silently mislead, through `crmlab run --only cleaning`."""
    rows = [
        ("c1", "2024-01-05", "10", "Müller"),            # ISO with dayfirst: true: 5 January
        ("c2", "2024-01-13", "20", "Müller"),
        ("c3", "2024-03-05T09:00:00Z", "30", "Müller"),  # zoned -> Asia/Shanghai 17:00
        ("c4", "2024-03-05T09:00:00+01:00", "40", "Müller"),
        ("c5", "2024-02-01", "inf", "Müller"),
        ("c6", "2024-02-02", "1e400", "Müller"),
        ("c7", "2024-02-03", "1e308", "Müller"),
        ("c8", "2024-02-04", "1e308", "Müller"),
        ("c\udcfc9", "2024-02-05", "50", "Müller"),        # one stray Latin-1 byte in an id
    ]
    body = "cid,day,paid,note\n" + "".join(",".join(r) + "\n" for r in rows)
    (tmp_path / "tx.csv").write_bytes(body.encode("utf-8", errors="surrogateescape"))
    params = {
        "run_name": "broken",
        "paths": {"processed": str(tmp_path / "processed"), "outputs": str(tmp_path / "outputs")},
        "transactions": {"path": str(tmp_path / "tx.csv"), "dayfirst": True, "timezone": "Asia/Shanghai",
                         "columns": {"customer_id": "cid", "date": "day", "amount": "paid"}},
    }
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params, allow_unicode=True))
    out = subprocess.run(
        [sys.executable, "-m", "crmlab.cli", "run", "--params", str(tmp_path / "p.yaml"),
         "--only", "cleaning", "--no-progress"], capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    products = tmp_path / "processed" / "broken"
    rep = json.loads((products / "cleaning_report.json").read_text())
    assert rep["by_reason"]["invalid_amount"] == 2 and rep["by_reason"]["amount_out_of_range"] == 2
    assert rep["by_reason"]["undecodable_text"] == 1
    assert rep["repairs"]["date_timezone_converted"] == 2 and rep["repairs"]["date_second_format"] == 0
    clean = pd.read_parquet(products / "transactions.parquet").set_index("customer_id")["date"]
    assert clean["c1"] == pd.Timestamp("2024-01-05") and clean["c2"] == pd.Timestamp("2024-01-13")
    assert clean["c3"] == pd.Timestamp("2024-03-05 17:00") and clean["c4"] == pd.Timestamp("2024-03-05 16:00")
    quarantine = pd.read_parquet(products / "quarantine.parquet")
    assert "M眉ller" not in quarantine.to_csv()
