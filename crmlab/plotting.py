"""What every stage's ``plotting`` module shares: a fresh Axes when none is given.

Drawing lives per stage in ``crmlab/<stage>/plotting.py``: every function takes computed
results and ``ax=None``, sets the title and the axis labels with units, and returns the
Axes. The takeaway above a figure comes from the stage's ``narrative`` module; saving is
:meth:`crmlab.context.StageContext.show`'s job.
"""

from __future__ import annotations

import logging

import matplotlib.pyplot as plt

__all__ = ["get_ax", "count_heatmap"]


def get_ax(ax=None, figsize=(7, 4)):
    """Return ``ax`` or a new Axes of a fresh figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def count_heatmap(ax, table, cmap="Blues", highlight=(), colour=None):
    """Annotated count heatmap of a DataFrame; ``highlight`` outlines (row, col) cells.

    ``colour`` (same shape, 0-1) sets the cell colours instead of the counts, so a large
    cell does not wash out the others; the annotations are always the counts. Returns the
    image (for a colour bar). Shared by the report's tier and migration maps and the value
    stage's tier cross-tab.
    """
    import numpy as np

    values = table.to_numpy(dtype=float)
    shade = values if colour is None else np.nan_to_num(np.asarray(colour, dtype=float))
    top = max(shade.max(), 1e-12) if shade.size else 1
    image = ax.imshow(shade, cmap=cmap, aspect="auto", vmin=0, vmax=1 if colour is not None else top)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=9,
                color="white" if shade[i, j] > 0.6 * top else "#1f2328")
    for i, j in highlight:
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#c0504d", lw=2.5))
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [str(r) for r in table.index])
    ax.tick_params(length=0)
    return image


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
