"""The pieces that keep data inert: HTML cleaning, formula neutralising, the personal-data screen."""

from __future__ import annotations

from html.parser import HTMLParser

import nbformat
import pandas as pd
import pytest

from crmlab import export, privacy, safety
from crmlab.errors import InputError

HOSTILE_HTML = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '"><svg onload=alert(3)>',
    "<iframe src=javascript:alert(4)></iframe>",
    "<a href='javascript:alert(5)'>x</a>",
    "<body onload=alert(6)>",
    "<style>@import url(http://evil/x.css);</style>",
    "<div style=\"background:url(http://evil/beacon)\">x</div>",
    "<object data=x></object>",
]


class _Scan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bad: list[str] = []
        self.in_style = False

    def handle_endtag(self, tag):
        self.in_style = self.in_style and tag != "style"

    def handle_starttag(self, tag, attrs):
        self.in_style = self.in_style or tag == "style"
        if tag in ("script", "img", "iframe", "svg", "object", "embed", "body", "base", "form"):
            self.bad.append(tag)
        for name, value in attrs:
            v = (value or "").lower()
            if name.startswith("on") or "javascript:" in v or "url(" in v:
                self.bad.append(f"{tag}[{name}]")

    def handle_data(self, data):
        if self.in_style and ("@import" in data or "url(" in data):
            self.bad.append("css-import")


def _bad(html: str) -> list[str]:
    scan = _Scan()
    scan.feed(html)
    return scan.bad


@pytest.mark.parametrize("value", HOSTILE_HTML)
def test_sanitise_html_keeps_no_active_content(value):
    styled = pd.DataFrame({value: [value, 1.5]}).style.format(precision=2).to_html()
    for html in (value, f"<table><tr><td>{value}</td></tr></table>", styled):
        assert _bad(safety.sanitise_html(html)) == []
    assert _bad(value), "the probe itself must be hostile, or the test proves nothing"


@pytest.mark.parametrize("value", HOSTILE_HTML)
def test_markdown_takeaways_escape_values(value):
    html = safety.markdown_to_safe_html(f"Customer **{value}** spent the most; see `{value}`.")
    assert _bad(html) == []
    assert "&lt;" in html  # shown as text, not dropped


def test_tables_and_kpi_cards_keep_their_layout():
    html = ('<style type="text/css">#T_1 th {text-align: left;}</style><table id="T_1"><tbody><tr>'
            '<th class="col_heading">a</th><td style="color:#57606a;font-size:12px">1</td></tr></tbody></table>')
    assert safety.sanitise_html(html) == html


def _notebook_with(outputs: list[dict]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells = [cell]
    return nb


@pytest.mark.parametrize("value", HOSTILE_HTML[:4])
@pytest.mark.parametrize("mime", ["text/html", "text/markdown", "application/javascript", "image/svg+xml"])
def test_exported_stage_and_report_html_carry_no_data_script(tmp_path, value, mime):
    out = {"output_type": "display_data", "metadata": {}, "data": {mime: value, "text/plain": "x"}}
    nb = _notebook_with([out])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    for render, name in ((export.export_html, "s.html"), (export.export_report, "report.html")):
        args = (path, tmp_path / name) + (("t",) if name == "report.html" else ())
        text = render(*args).read_text(encoding="utf-8")
        body = text[text.index("<body"):]
        assert _bad(body.replace("<body", "<main", 1)) == [], (name, mime)
        assert 'http-equiv="Content-Security-Policy"' in text[: text.index("</head>")]
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in report and "script-src 'none'" in report


@pytest.mark.parametrize(
    "cell, out",
    [("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@A1", "'@A1"), ("\t1", "'\t1"),
     ("\r1", "'\r1"), ("-1.5", "-1.5"), ("+2", "+2"), ("1e-3", "1e-3"), ("-.5", "-.5"), ("a=b", "a=b")],
)
def test_neutralise_formulas(cell, out):
    df = pd.DataFrame({"text": [cell], "num": [-1.5]}, index=pd.Index([cell], name="=idx"))
    got = safety.neutralise_formulas(df)
    assert got["text"].iloc[0] == out and got.index[0] == out and got.index.name == "'=idx"
    assert got["num"].iloc[0] == -1.5 and got["num"].dtype == "float64"


@pytest.mark.parametrize(
    "name, personal",
    [("email", True), ("E-Mail", True), ("customerEmail", True), ("phone_number", True),
     ("Mobile", True), ("first_name", True), ("Customer Name", True), ("address_line1", True),
     ("手机号码", True), ("身份证号", True), ("date_of_birth", True), ("ssn", True),
     ("phone_service", False), ("PhoneService", False), ("multiple_lines", False),
     ("product_name", False), ("customer_id", False), ("order_no", False), ("mailed", False)],
)
def test_pii_by_name(name, personal):
    assert privacy.pii_by_name(name) is personal


@pytest.mark.parametrize(
    "values, kind",
    [
        (["a@x.com", "b@y.org", ""], "email"),
        (["+1 (555) 123-4567", "555-987-6543", "13800138000"], "phone"),
        (["11010519491231002X", "440304199001011233"], "id_card"),
        (["123-45-6789", "987-65-4321"], "id_card"),
        (["19970101", "19970102", "19970103"], None),  # CDNOW dates are not phone numbers
        (["20240101000", "20240101001"], None),  # order numbers
        (["110105194912310021", "440304199001011234"], None),  # 18 digits, wrong check digit
        (["29.85", "1889.5", "-5.2"], None),
        (["7590-VHVEG", "5575-GNVDE"], None),  # Telco customer ids
    ],
    ids=["email", "phone", "cn-id", "ssn", "dates", "order-ids", "bad-check-digit", "amounts", "telco-ids"],
)
def test_personal_kind_by_values(values, kind):
    assert privacy.personal_kind(pd.Series(values)) == kind


def test_screen_drops_declared_and_detected_and_needs_a_key_for_personal_ids(monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    df = pd.DataFrame({"who": ["a@x.com", "b@x.com"], "tel": ["+1 555 123 4567", "+1 555 765 4321"],
                       "secret": ["s", "t"], "score": ["1", "2"]})
    with pytest.warns(privacy.PersonalDataWarning, match="tel"):
        out, screen = privacy.screen_pii(df, declared=["secret"], protected=["score"])
    assert list(out.columns) == ["score"] and screen.dropped == ["secret"]
    assert screen.detected == ["who", "tel"]
    with pytest.raises(InputError, match="id column 'who' holds personal data \\(email\\)"):
        privacy.screen_pii(df, declared=["secret", "tel"], protected=["score"], ids=["who"])
    out, screen = privacy.screen_pii(df, ["secret", "tel"], ["score"], ["who"], key="k" * 16)
    assert screen.pseudonymised == {"who": "email"}
    assert out["who"].tolist() == privacy.pseudonymise(pd.Series(["A@X.com", "b@x.com"]), "k" * 16).tolist()
    assert out["who"].tolist() != privacy.pseudonymise(df["who"], "another-key-0123").tolist()
    with pytest.raises(InputError, match="is used by the analysis"):
        privacy.screen_pii(df, declared=["score"], protected=["score"])
    with pytest.raises(InputError, match="at least 16"):
        privacy.pseudonymise(df["who"], "short")


@pytest.mark.parametrize("header", ["ann@example.com", "+44 20 7946 0958", "123-45-6789"])
def test_a_header_that_is_personal_data_is_dropped_and_never_named(header):
    from crmlab import cleaning

    raw = pd.DataFrame({"id": ["1", "2"], "day": ["2024-01-01", "2024-01-02"], "paid": ["5", "6"],
                        header: ["x", "y"]})
    sec = {"columns": {"customer_id": "id", "date": "day", "amount": "paid"}}
    res = cleaning.clean_transactions(raw, sec)
    assert res.report["pii_detected"] == ["<redacted column name>"]
    assert header not in str(res.report) and header not in res.quarantine.columns
    with pytest.warns(privacy.PersonalDataWarning) as caught:
        _, screen = privacy.screen_pii(raw, protected=["id", "day", "paid"])
    assert header not in str(caught[0].message) and header not in str(screen.as_dict())
