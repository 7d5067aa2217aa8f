"""Values from the user's data are text, never markup or formulas, in anything a run writes.

Two writers turn data into documents people open with a program that can run code:

* **HTML** (``report.html`` and every ``NN_<stage>.html``). Notebooks show tables through
  pandas (``DataFrame`` and ``Styler`` HTML, which does not escape cell values or headers
  once a notebook calls ``.format()``) and takeaways through ``Markdown``, which passes raw
  HTML through. Rather than trusting every notebook cell, the exporter runs
  :func:`sanitise_outputs_preprocessor` over the executed notebook: Markdown outputs are rendered with
  raw HTML *escaped*, and every HTML output is cleaned against an allow-list of table and
  text tags (:func:`sanitise_html`): a ``<script>``, ``<img onerror=...>`` or
  ``<iframe>`` from a customer id or a column header is shown as the literal text it is,
  event-handler attributes and ``javascript:`` links are removed, and outputs that are code
  (``application/javascript``, widgets) are dropped. ``report.html`` also carries a
  Content-Security-Policy (:data:`REPORT_CSP`) that forbids every script.
* **CSV tables** (opened in Excel by double-click). A text cell starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return is a formula to Excel or LibreOffice; following
  OWASP's advice :func:`neutralise_formulas` prefixes such cells with a single quote.
  Numbers stay numbers: numeric columns are never touched, and a text cell that is a plain
  number (``-5.2``, ``+3``, ``1e-3``) is left alone, because a spreadsheet reads it as a
  number, not a formula. Parquet products keep the exact values.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = [
    "REPORT_CSP",
    "STAGE_CSP",
    "FORMULA_START",
    "sanitise_html",
    "markdown_to_safe_html",
    "neutralise_formulas",
    "sanitise_outputs_preprocessor",
]

# report.html: no script at all, nothing from the network; figures are data: URIs.
REPORT_CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
)
# Stage HTML loads MathJax from its CDN for the formulas; nothing inline may run.
STAGE_CSP = (
    "script-src https://cdnjs.cloudflare.com 'unsafe-eval'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd",
    "li", "ol", "p", "pre", "s", "small", "span", "strong", "style", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
_ATTRS = {
    "*": ["class", "id", "style", "title", "align", "colspan", "rowspan", "valign", "scope"],
    "a": ["href", "title"],
    "style": ["type"],
}
_CSS_BAD = re.compile(r"(?i)url\s*\(|expression\s*\(|@import|javascript:|behavior\s*:|-moz-binding")


def _cleaner():
    import bleach
    from bleach.css_sanitizer import CSSSanitizer

    class _Css(CSSSanitizer):
        # every property is fine except the ones that fetch or run something
        def sanitize_css(self, style: str) -> str:
            return "" if _CSS_BAD.search(style) else style

    return bleach.Cleaner(
        tags=_TAGS, attributes=_ATTRS, protocols=frozenset({"http", "https", "mailto"}),
        strip=False, strip_comments=True, css_sanitizer=_Css(),
    )


_CLEANER = None


def sanitise_html(html: str) -> str:
    """Clean an HTML fragment: disallowed tags escaped to text, unsafe attributes removed.

    Tables, text formatting, ``<style>`` blocks and inline styles without ``url()`` are
    kept (what pandas tables and the report's KPI cards use); ``<script>``, ``<img>``,
    ``<iframe>``, ``<svg>``, ``<object>`` ... are shown as text; ``on*`` attributes and
    ``javascript:`` links are removed. ``<style>`` content loses anything that could fetch
    or run (``url(``, ``@import``, ``expression(``).
    """
    global _CLEANER
    if _CLEANER is None:
        _CLEANER = _cleaner()
    out = _CLEANER.clean(html)
    return re.sub(
        r"(<style[^>]*>)(.*?)(</style>)",
        lambda m: m.group(1) + _CSS_BAD.sub("/*removed*/", m.group(2)) + m.group(3),
        out, flags=re.S | re.I,
    )


def markdown_to_safe_html(text: str) -> str:
    """Render Markdown with raw HTML escaped (a ``<b>`` in a value shows as ``<b>``)."""
    import mistune

    md = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return sanitise_html(md(text))


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` where text cells and labels a spreadsheet would run as formulas start with ``'``.

    Only text (object/string) columns, the column names and a text index are looked at;
    a cell that is a plain number (``-5.2``) is kept as it is.
    """

    def fix(v: Any) -> Any:
        if isinstance(v, str) and v.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(v):
            return "'" + v
        return v

    def texty(dtype: Any) -> bool:
        return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)

    def relabel(index: pd.Index) -> pd.Index:
        if isinstance(index, pd.MultiIndex):
            return pd.MultiIndex.from_tuples(
                [tuple(fix(v) for v in t) for t in index], names=[fix(n) for n in index.names])
        if texty(index.dtype):
            return pd.Index([fix(v) for v in index], name=fix(index.name), dtype=object)
        return index.rename(fix(index.name))

    out = df.copy()
    for col in out.columns:
        s = out[col]
        if texty(s.dtype):
            out[col] = s.map(fix).astype(object)
    out.columns = relabel(out.columns)
    out.index = relabel(out.index)
    return out


def _sanitise_output(output: Any) -> None:
    data = output.get("data")
    if not data:
        return
    for mime in [m for m in data if "javascript" in m or "widget" in m or m == "image/svg+xml"]:
        del data[mime]
    if "text/markdown" in data:
        md = data.pop("text/markdown")
        data["text/html"] = markdown_to_safe_html(md if isinstance(md, str) else "".join(md))
    elif "text/html" in data:
        html = data["text/html"]
        data["text/html"] = sanitise_html(html if isinstance(html, str) else "".join(html))


def sanitise_outputs_preprocessor():
    """Return an nbconvert preprocessor that makes every output of every cell safe.

    Built on demand so that importing this module (``save_table`` does) does not import
    nbconvert.
    """
    from nbconvert.preprocessors import Preprocessor

    class SanitiseOutputs(Preprocessor):
        def preprocess_cell(self, cell, resources, index):  # noqa: D102 (nbconvert API)
            for output in cell.get("outputs", []):
                _sanitise_output(output)
            return cell, resources

    return SanitiseOutputs()
