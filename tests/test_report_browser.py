"""report.html in a real browser: headless Chromium, offline, every figure loaded, no errors.

The report is produced by the real report notebook (``crmlab run --only report``) on small
hand-made products plus the state of a fake previous run, so every section renders —
including the run-over-run comparison and the trend chart. Chromium comes from Debian's
``chromium`` package, which ``.ci/run`` installs; elsewhere the test is skipped when no
browser is found, and under CI (``CI`` set) it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crmlab import report, runstore, segmentation
from crmlab.config import params_from_dict
from crmlab.features import customer_summary
from crmlab.io import write_json, write_parquet

from conftest import RAW, ROOT

pytestmark = pytest.mark.slow

# The machine may have no network: without these flags Chromium waits on connections.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--mute-audio",
]
SECTIONS = [
    "1. What this report is built from", "2. Headline numbers", "3. Customer segments",
    "4. Value tiers", "5. What drives satisfaction", "6. Churn risk and the watch list",
    "7. Customer interactions", "8. Since the last run", "9. Trends over the scheduled runs",
    "10. What to do this week",
]
# Runs after the page has loaded: counts images that did not decode and any resource the
# page tried to fetch over the network, and writes the verdict into the DOM for --dump-dom.
PROBE = """
<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  const external = performance.getEntriesByType("resource").map(e => e.name)
    .filter(n => /^(https?|wss?):/.test(n));
  const out = document.createElement("pre");
  out.id = "crmlab-check";
  out.textContent = JSON.stringify({images: imgs.length, broken, external,
                                    height: document.body.scrollHeight});
  document.body.appendChild(out);
});
</script>
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    names = ("chromium", "chromium-browser", "google-chrome")
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    if found is None:
        # installing a browser is CI's job (.ci/run), never a test's
        if os.environ.get("CI"):
            pytest.fail("CI is set but no Chromium is on PATH: .ci/run should have installed it")
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); CI runs this test")
    return found


def _products(tmp: Path) -> Path:
    """Small hand-made products for every stage, and a previous run's state; returns params."""
    rng = np.random.default_rng(7)
    n = 40
    ids = [f"{i:03d}" for i in range(n)]
    days = rng.integers(0, 180, size=3 * n)
    tx = pd.DataFrame({
        "customer_id": np.repeat(ids, 3),
        "date": pd.Timestamp("1998-01-01") + pd.to_timedelta(days, unit="D"),
        "amount": rng.gamma(2.0, 20.0, size=3 * n).round(2),
    })
    tx = tx.iloc[: 3 * n - 25]  # some customers buy once or twice
    raw = tmp / "orders.csv"
    tx.assign(date=tx["date"].dt.strftime("%Y%m%d")).to_csv(raw, index=False)
    survey = yaml.safe_load((ROOT / "params" / "test.yaml").read_text())["survey"]
    mapping = {
        "run_name": "browser",
        "paths": {"processed": str(tmp / "processed"), "outputs": str(tmp / "outputs")},
        "transactions": {"path": str(raw), "columns": {
            "customer_id": "customer_id", "date": "date", "amount": "amount"}},
        "periods": {"calibration_end": "1998-04-30", "observation_end": "1998-06-30"},
        "survey": {**survey, "path": str(RAW / "ecsi" / "mobi.csv")},
        "churn": {"path": str(ROOT / "tests" / "data" / "telco_small.csv"), "target": "churn"},
        "interactions": yaml.safe_load((ROOT / "params" / "test.yaml").read_text())["interactions"],
    }
    params_path = tmp / "params.yaml"
    params_path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    p = params_from_dict(mapping)
    out = tmp / "processed" / "browser"
    write_parquet(tx, out / "transactions.parquet")
    write_json({"rows_in": len(tx) + 2, "rows_clean": len(tx), "rows_quarantined": 2,
                "by_reason": {"duplicate": 2}, "repairs": {}}, out / "cleaning_report.json")
    cust = segmentation.segment_customers(customer_summary(tx, "1998-06-30"), p.segmentation)
    write_parquet(cust.assign(cluster=0, cluster_name="all"), out / "customers.parquet")
    write_parquet(pd.DataFrame({"customer_id": cust["customer_id"],
                                "predicted_holdout_value": cust["total_spend"] * 0.3,
                                "clv": cust["total_spend"] * 0.5,
                                "p_alive": np.linspace(0.1, 0.9, len(cust))}),
                  out / "value_predictions.parquet")
    write_json({"satisfaction_index": 72.5, "n_respondents": 250, "drivers": {
        "Image": {"importance": 0.35, "performance": 70.0},
        "Quality": {"importance": 0.45, "performance": 78.0},
        "Value": {"importance": 0.2, "performance": 65.0},
    }}, out / "satisfaction.json")
    prob = np.linspace(0.02, 0.98, 60)
    write_parquet(pd.DataFrame({
        "row": range(60), "split": ["train", "test"] * 30, "actual": (prob > 0.6).astype(int),
        "churn_probability": prob,
        "risk_band": np.where(prob > 0.9, "high", np.where(prob > 0.7, "medium", "low")),
    }), out / "churn_scores.parquet")
    from test_report_interactions import doc as interactions_doc  # every section the report reads

    write_json(interactions_doc(), out / "interaction_metrics.json")
    # the previous scheduled run: same customers, some in other tiers, a smaller input
    parent = tmp / "outputs" / "browser"
    prev = parent / "20240101T000000Z-0000"
    snap = report.customer_snapshot(cust)
    snap["value_tier"] = np.roll(snap["value_tier"].to_numpy(), 3)
    write_parquet(snap, prev / runstore.SNAPSHOT_FILE)
    kpis = {k: None for k in report.KPI_NAMES} | {"customers": 38, "active_customers": 20,
                                                  "repeat_rate": 0.5, "watch_list": 2}
    write_json({"observation_end": "1998-05-31", "kpis": kpis}, prev / runstore.KPIS_FILE)
    write_json({"transactions": {"rows": 60, "columns": ["customer_id", "date"]}},
               prev / runstore.PROFILE_FILE)
    report.history_row(prev.name, "2024-01-01T00:00:00+00:00", "1998-05-31", ["report"], kpis) \
        .to_csv(parent / runstore.HISTORY_FILE, index=False)
    os.symlink(prev.name, parent / "latest")
    return params_path


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    params = _products(tmp)
    done = subprocess.run(
        [sys.executable, "-m", "crmlab.cli", "run", "--params", str(params), "--only", "report",
         "--no-progress"], capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    path = Path(done.stdout.strip().splitlines()[-1].removeprefix("report: "))
    assert path.name == "report.html" and path.exists()
    return path


def test_report_html_is_complete_and_self_contained(report_html):
    html = report_html.read_text(encoding="utf-8")
    for title in SECTIONS:
        assert title in html, f"section {title!r} missing"
    assert "Traceback" not in html, "a cell errored"
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html, "a cell errored or warned"
    assert "<script" not in html and not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    assert "Not available in this run" not in html, "every stage's section should render"
    assert "Since the previous run" in html, "the comparison with the fake previous run is shown"


def test_report_renders_offline_in_chromium(report_html, chromium, tmp_path):
    page = tmp_path / "check.html"
    html = report_html.read_text(encoding="utf-8")
    assert "script-src 'none'" in html, "report.html forbids scripts (Content-Security-Policy)"
    # the probe is a script: allow inline scripts for it, keep the rest of the policy (images
    # must still load under img-src data:, nothing may be fetched under default-src 'none')
    html = html.replace("script-src 'none'", "script-src 'unsafe-inline'", 1)
    page.write_text(html.replace("</body>", PROBE + "</body>"))
    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=15000", "--dump-dom", page.as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail("chromium did not finish rendering within 180 s")
    found = re.search(r'<pre id="crmlab-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the page did not finish loading: {done.stderr[-2000:]}"
    check = json.loads(found.group(1).replace("&quot;", '"'))
    assert check["images"] >= 5, check  # segments, tiers, drivers, tier moves, trends
    assert check["broken"] == 0, f"{check['broken']} figure(s) did not load"
    assert check["external"] == [], f"the page fetched {check['external']}"
    assert check["height"] > 3000, "the page should be long: every section rendered"
