"""Keep the Chinese notebook edition in step with the English one.

    python scripts/sync_editions.py [--check]

For every ``notebooks/NN_*.ipynb`` this writes ``notebooks/zh/NN_*.ipynb`` with the
English edition's cells in the English order: **code cells copied exactly** (the
parameters cell says ``language = "zh"`` instead of ``"en"``), markdown cells taken from
the Chinese edition by cell id — the translation — or, for a cell not translated yet, the
English text, which ``tests/test_editions.py`` then reports. Outputs are cleared. Edit the
English code, run this, and the two editions cannot drift; translate markdown in the
Chinese notebook (keep its cell ids).

``--check`` writes nothing and exits 1 when a Chinese notebook is not what this would
write (the test runs the same comparison).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EN = ROOT / "notebooks"
ZH = EN / "zh"
PARAM_LINE = {"en": 'language = "en"', "zh": 'language = "zh"'}


def _source(cell: dict) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def edition_code(source: str, language: str) -> str:
    """A code cell's source in ``language``'s edition (only the parameters line differs)."""
    return source.replace(PARAM_LINE["en"], PARAM_LINE[language])


def build_zh(en_nb: dict, zh_nb: dict | None) -> dict:
    """The Chinese notebook for ``en_nb``, keeping the translated markdown of ``zh_nb``."""
    translated = {}
    if zh_nb is not None:
        translated = {c.get("id"): c for c in zh_nb["cells"] if c["cell_type"] == "markdown"}
    out = copy.deepcopy(en_nb)
    out["metadata"] = {**en_nb.get("metadata", {}), "crmlab": {"edition": "zh"}}
    cells = []
    for cell in en_nb["cells"]:
        new = copy.deepcopy(cell)
        if cell["cell_type"] == "code":
            new["source"] = _lines(edition_code(_source(cell), "zh"))
            new["outputs"] = []
            new["execution_count"] = None
        elif cell["cell_type"] == "markdown" and cell.get("id") in translated:
            new["source"] = copy.deepcopy(translated[cell["id"]]["source"])
        cells.append(new)
    out["cells"] = cells
    return out


def dump(nb: dict) -> str:
    """Notebook JSON as Jupyter writes it (1-space indent, UTF-8 text, trailing newline)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when out of step")
    args = ap.parse_args(argv)
    ZH.mkdir(exist_ok=True)
    stale = []
    for en_path in sorted(EN.glob("[0-9][0-9]_*.ipynb")):
        zh_path = ZH / en_path.name
        en_nb = json.loads(en_path.read_text(encoding="utf-8"))
        zh_nb = json.loads(zh_path.read_text(encoding="utf-8")) if zh_path.exists() else None
        text = dump(build_zh(en_nb, zh_nb))
        if not zh_path.exists() or zh_path.read_text(encoding="utf-8") != text:
            stale.append(zh_path.relative_to(ROOT).as_posix())
            if not args.check:
                zh_path.write_text(text, encoding="utf-8")
    verb = "out of step" if args.check else "written"
    for p in stale:
        print(f"{verb}: {p}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
