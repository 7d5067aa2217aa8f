"""What every stage's ``plotting`` module shares: a fresh Axes when none is given.

Drawing lives per stage in ``crmlab/<stage>/plotting.py``: every function takes computed
results and ``ax=None``, sets the title and the axis labels with units, and returns the
Axes. The takeaway above a figure comes from the stage's ``narrative`` module; saving is
:meth:`crmlab.context.StageContext.show`'s job.
"""

from __future__ import annotations

import logging

import matplotlib.pyplot as plt

__all__ = ["get_ax"]


def get_ax(ax=None, figsize=(7, 4)):
    """Return ``ax`` or a new Axes of a fresh figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# Families that hold the Chinese (CJK) glyphs DejaVu Sans lacks, best first: Noto/Source Han
# (the same design under two names), WenQuanYi (Debian's small fonts-wqy-microhei), and the
# system fonts of macOS and Windows.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "SimHei", "Heiti SC", "Noto Sans CJK JP",
)
# File-name stems of the same fonts, for fonts installed after Matplotlib built its cache.
_CJK_FILES = ("notosanscjk", "notosanssc", "sourcehansans", "wqy-microhei", "wqy-zenhei",
              "pingfang", "hiragino sans gb", "msyh", "simhei", "stheiti")


def cjk_font() -> str | None:
    """Name of an installed font family with Chinese glyphs, or None.

    Looks in Matplotlib's font list first, then among the system's font files (a font
    installed after Matplotlib cached its list is added to it).
    """
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((fam for fam in CJK_FAMILIES if fam in names), None)

    found = known()
    if found is None:
        for path in font_manager.findSystemFonts():
            stem = path.rsplit("/", 1)[-1].lower().replace("_", "")
            if any(key in stem for key in _CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # unreadable file: try the next
                    continue
        found = known()
    return found


def use_cjk_fallback() -> str | None:
    """Let figures draw Chinese text: DejaVu Sans first, a CJK family as per-glyph fallback.

    Called once by :func:`crmlab.context.stage_context`. Returns the CJK family used, or
    None when the machine has none (Chinese labels would show as boxes; the README says
    which font to install: ``fonts-noto-cjk`` or ``fonts-wqy-microhei`` on Debian/Ubuntu,
    macOS and Windows have one).
    """
    family = cjk_font()
    if family is not None:
        _quiet_missing_weights()
        # Matplotlib falls back glyph by glyph along an explicit family list (not along the
        # members of a generic family such as "sans-serif")
        plt.rcParams["font.family"] = ["DejaVu Sans", family]
    return family


class _NoWeightFallbackNote(logging.Filter):
    """Drop Matplotlib's note that a CJK family lacks a bold face (the regular one is used).

    Bold titles ask every family of the fallback list for a bold face; WenQuanYi has none,
    and the note would land in every executed notebook as an error-looking stderr cell.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Failed to find font weight" not in record.getMessage()


def _quiet_missing_weights() -> None:
    log = logging.getLogger("matplotlib.font_manager")
    if not any(isinstance(f, _NoWeightFallbackNote) for f in log.filters):
        log.addFilter(_NoWeightFallbackNote())
