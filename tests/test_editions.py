"""The Chinese notebook edition: every chapter, code cells identical to the English edition."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EN_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")
MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
LINK = re.compile(r"https?://[^\s)>\]]+")


def _sync():
    spec = importlib.util.spec_from_file_location("sync_editions", ROOT / "scripts" / "sync_editions.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.mark.parametrize("en_path", EN_NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_identical(en_path):
    """Code cells of the two editions differ only in the parameters cell's language line."""
    zh_path = ROOT / "notebooks" / "zh" / en_path.name
    assert zh_path.exists(), f"{zh_path.relative_to(ROOT)} missing: run scripts/sync_editions.py"
    en, zh = _load(en_path), _load(zh_path)
    assert [(c["cell_type"], c.get("id")) for c in en["cells"]] == \
        [(c["cell_type"], c.get("id")) for c in zh["cells"]], "cells differ in order, kind or id"
    sync = _sync()
    for a, b in zip(en["cells"], zh["cells"], strict=True):
        if a["cell_type"] == "code":
            assert sync.edition_code(_src(a), "zh") == _src(b), \
                f"code cell {a.get('id')} differs; run scripts/sync_editions.py"
    assert sum('language = "en"' in _src(c) for c in en["cells"] if c["cell_type"] == "code") == 1


@pytest.mark.parametrize("en_path", EN_NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_translated_formulas_and_links_kept(en_path):
    """Every prose cell is in Chinese; display formulas and reference links are kept."""
    en = _load(en_path)
    zh = _load(ROOT / "notebooks" / "zh" / en_path.name)
    for a, b in zip(en["cells"], zh["cells"], strict=True):
        if a["cell_type"] != "markdown":
            continue
        text_en, text_zh = _src(a), _src(b)
        if re.search(r"[A-Za-z]{4,}", MATH.sub("", text_en)):
            assert CJK.search(text_zh), f"{en_path.name} cell {a.get('id')} not translated"
        norm = lambda m: re.sub(r"\s+", "", m)  # noqa: E731
        assert [norm(m) for m in MATH.findall(text_en)] == [norm(m) for m in MATH.findall(text_zh)], \
            f"{en_path.name} cell {a.get('id')}: display formulas differ"
        assert set(LINK.findall(text_en)) <= set(LINK.findall(text_zh)), \
            f"{en_path.name} cell {a.get('id')}: references dropped"
