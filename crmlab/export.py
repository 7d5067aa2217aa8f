"""HTML export of executed stage notebooks: code hidden, a Content-Security-Policy, offline.

Every executed stage notebook becomes ``NN_<stage>.html`` (:func:`export_html`); the report
stage's notebook also becomes ``report.html`` (:func:`export_report`), self-contained:
figures embedded, no script or style fetched from the network, so it opens offline from an
e-mail attachment. Every output is cleaned of markup from the data (:mod:`crmlab.safety`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from crmlab.io import write_text

__all__ = ["METHOD_TAG", "HTML_LANG", "export_html", "export_report"]

# Cells tagged like this (formulas, method notes for a class) stay in NN_report.html and the
# notebook but are left out of report.html, which is for readers who skip the method.
METHOD_TAG = "method"

# nbconvert's "lab" template loads require.js (and mermaid.js when a diagram is present) from
# a CDN and MathJax from another; a report opened offline must not wait for any of them.
# Figures are PNG outputs, which the exporter already embeds as data: URIs.
_OFFLINE_BLOCKS = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
"""
_NO_MATHJAX = """{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""


def _exporter(mathjax: bool, remove_tags: Iterable[str] = ()):
    import jinja2
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    from crmlab.safety import sanitise_outputs_preprocessor

    name = "crmlab_stage.html.j2" if mathjax else "crmlab_report.html.j2"
    template = _OFFLINE_BLOCKS + ("" if mathjax else _NO_MATHJAX)
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({name: template})],
        template_file=name,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    if remove_tags:
        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags=set(remove_tags)), enabled=True
        )
    # values from the data (ids, headers, survey groups) are text, never markup: every
    # output is escaped/cleaned before it becomes HTML (crmlab.safety)
    exporter.register_preprocessor(sanitise_outputs_preprocessor(), enabled=True)
    return exporter


def _with_csp(body: str, policy: str) -> str:
    """Put a Content-Security-Policy meta first in ``<head>`` (before any script tag)."""
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    head = re.search(r"<head[^>]*>", body)
    if head is None:
        return meta + body
    return body[: head.end()] + "\n" + meta + body[head.end():]


# The ``lang`` of the exported page per run language (BCP 47: screen readers, fonts, search).
HTML_LANG = {"en": "en", "zh": "zh-CN"}


def _with_lang(body: str, language: str) -> str:
    """Set ``<html lang="...">`` to the run language (nbconvert writes ISO 639-1 codes only)."""
    lang = HTML_LANG.get(language, language)
    return re.sub(r'<html(?:\s+lang="[^"]*")?', f'<html lang="{lang}"', body, count=1)


def export_html(notebook: Path, target: Path, language: str = "en") -> Path:
    """Render an executed notebook to HTML with code hidden (formulas need MathJax online).

    Parameters
    ----------
    notebook : Path
        The executed notebook.
    target : Path
        The HTML file to write.
    language : str
        The run language (``en``, ``zh``): the page's ``lang`` (:data:`HTML_LANG`).

    Returns
    -------
    Path
        ``target``.
    """
    import nbformat

    from crmlab.safety import STAGE_CSP

    nb = nbformat.read(notebook, as_version=4)
    body, _ = _exporter(mathjax=True).from_notebook_node(nb)
    return write_text(_with_csp(_with_lang(body, language), STAGE_CSP), target)


def export_report(notebook: Path, target: Path, title: str, language: str = "en") -> Path:
    """Render the report notebook to ``report.html``: code hidden, fully offline.

    Cells tagged ``method`` (formulas and method notes) are left out, and no script is
    loaded at all (no MathJax, no require.js): the page is plain HTML and CSS with the
    figures embedded as data URIs, so it renders the same from an e-mail attachment on a
    machine without network. A Content-Security-Policy (:data:`crmlab.safety.REPORT_CSP`)
    forbids scripts and fetches, and every output is cleaned of markup from the data.

    Parameters
    ----------
    notebook : Path
        The executed report notebook.
    target : Path
        The HTML file to write.
    title : str
        The page title.
    language : str
        The run language (``en``, ``zh``): the page's ``lang`` (:data:`HTML_LANG`).

    Returns
    -------
    Path
        ``target``.
    """
    import nbformat

    from crmlab.safety import REPORT_CSP

    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["title"] = title
    body, _ = _exporter(mathjax=False, remove_tags=(METHOD_TAG,)).from_notebook_node(nb)
    return write_text(_with_csp(_with_lang(body, language), REPORT_CSP), target)
