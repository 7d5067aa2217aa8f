"""What a stage notebook works with: its params, its folders, and the products it declared.

:func:`stage_context` is the first call of every stage notebook. The context it returns is
the notebook's only way to the chain's products: :meth:`StageContext.input` and
:meth:`StageContext.find` refuse a product the stage did not declare among its reads in
:mod:`crmlab.stages`, :meth:`StageContext.output` one it did not declare among its writes.
:meth:`StageContext.show` shows a :class:`crmlab.display.Display` (takeaway, figure) and
saves its figure and table under the run folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmlab.config import Params, apply_privacy, load_params
from crmlab.errors import InputError
from crmlab.i18n import Catalog, catalog
from crmlab.stages import Stage, get_stage, producer_of

__all__ = ["StageContext", "UndeclaredProduct", "stage_context"]


class UndeclaredProduct(RuntimeError):
    """A notebook reached for a product its stage does not declare (a bug in the notebook)."""


@dataclass
class StageContext:
    """Params, folders and declared products of one stage notebook.

    Attributes
    ----------
    stage : Stage
        The stage's declaration (what it reads and writes).
    params : Params
        The validated params.
    processed : Path
        Where this stage writes its products (``<processed>/<run_name>/``, or under
        ``crmlab run`` the run's staging folder, promoted only when the whole run succeeds).
    run_dir : Path
        The run folder (``figures/``, ``tables/`` below it).
    fallback : Path or None
        Where products of earlier runs live when ``processed`` is a staging folder; reads
        look in ``processed`` first, then here.
    """

    stage: Stage
    params: Params
    processed: Path
    run_dir: Path
    fallback: Path | None = None

    @property
    def language(self) -> str:
        """The run's language (``language`` in the params): ``en`` or ``zh``."""
        return self.params.language

    @property
    def tr(self) -> Catalog:
        """The run's catalog (:mod:`crmlab.i18n`): pass it to views, narrative and plots."""
        return catalog(self.params.language)

    @property
    def figures(self) -> Path:
        """Folder for figures of this run."""
        return self.run_dir / "figures"

    @property
    def tables(self) -> Path:
        """Folder for tables of this run."""
        return self.run_dir / "tables"

    # --- products ------------------------------------------------------------------------

    def output(self, name: str) -> Path:
        """Path to write the product ``name``, which the stage must declare among its writes."""
        if name not in self.stage.writes:
            raise UndeclaredProduct(
                f"stage '{self.stage.name}' writes {name!r} but does not declare it "
                f"(writes: {', '.join(self.stage.writes) or 'nothing'}; see crmlab/stages.py)"
            )
        return self.processed / name

    def _check_read(self, name: str) -> None:
        if not self.stage.declares_read(name):
            declared = (*self.stage.reads, *self.stage.optional_reads)
            raise UndeclaredProduct(
                f"stage '{self.stage.name}' reads {name!r} but does not declare it "
                f"(reads: {', '.join(declared) or 'nothing'}; see crmlab/stages.py)"
            )

    def find(self, name: str) -> Path | None:
        """Path of a declared upstream product (this run's first, then earlier runs'), or None."""
        self._check_read(name)
        for folder in (self.processed, self.fallback):
            if folder is not None and (folder / name).exists():
                return folder / name
        return None

    def input(self, name: str) -> Path:
        """Path of a declared upstream product, with a clear error when it has not been made yet."""
        path = self.find(name)
        if path is None:
            stage = producer_of(name) or "?"
            raise InputError(
                f"{self.processed / name}: not found; run the '{stage}' stage first "
                f"(crmlab run --only {stage} --params ...)"
            )
        return path

    # --- figures and tables --------------------------------------------------------------

    def save_figure(self, fig: Any, name: str) -> Path:
        """Save a figure as ``figures/<name>.png`` of this run."""
        from crmlab.io import save_figure

        return save_figure(fig, self.figures, name)

    def save_table(self, table: Any, name: str, index: bool = False) -> Path:
        """Save a table as ``tables/<name>.csv`` of this run."""
        from crmlab.io import save_table

        return save_table(table, self.tables, name, index=index)

    def show(self, result: Any, save_table: bool = True) -> Any:
        """Show a :class:`crmlab.display.Display`: takeaway, figure; save figure and table.

        Returns the display, so a cell can go on with its table or data.
        """
        import matplotlib.pyplot as plt
        from IPython.display import Markdown, display

        from crmlab.display import figure_of

        if result.takeaway:
            display(Markdown(f"**{self.tr('common.takeaway')}** {result.takeaway}"))
        fig = figure_of(result.plot())
        saved = self.save_figure(fig, result.name)
        if save_table and result.table is not None:
            self.save_table(result.table, result.table_name or result.name)
        if "inline" in plt.get_backend():
            # a notebook: show the PNG just saved instead of drawing the figure a second
            # time (the inline backend would render it again), at the inline size
            display(inline_image(saved.read_bytes()))
            plt.close(fig)
        else:
            plt.show()
        return result


def inline_image(png: bytes) -> Any:
    """Return an IPython image of a saved figure, shown at the inline backend's size.

    Figures are saved at ``crmlab.io.save_figure``'s dpi (110); the notebook showed them at
    Matplotlib's ``figure.dpi`` (100), so the width is scaled to match.
    """
    import matplotlib as mpl
    from IPython.display import Image

    from crmlab.io.writers import FIGURE_DPI

    width = int.from_bytes(png[16:20], "big") if png[12:16] == b"IHDR" else None
    if width is None:
        return Image(data=png, format="png")
    return Image(data=png, format="png", width=max(1, round(width * mpl.rcParams["figure.dpi"] / FIGURE_DPI)))


def stage_context(
    stage: str | Stage,
    params_file: str | Path | None = None,
    overrides: Iterable[str] = (),
    run_dir: str | Path | None = None,
    processed_dir: str | Path | None = None,
    language: str | None = None,
) -> StageContext:
    """Build the :class:`StageContext` of ``stage`` that a notebook's parameters cell describes.

    ``stage`` is a registered stage name (:mod:`crmlab.stages`) or a :class:`Stage`.
    Run by hand (``run_dir=None``), figures and tables go to
    ``<outputs>/<run_name>/interactive/`` and products to ``<processed>/<run_name>/``;
    under ``crmlab run`` the runner passes the run folder and a staging folder for
    products. The folders are created here.

    ``language`` is the notebook edition's language (its parameters cell): it overrides
    ``language`` in the params, so the Chinese edition opened by hand speaks Chinese.
    ``None`` keeps the params' language.
    """
    decl = stage if isinstance(stage, Stage) else get_stage(stage)
    overrides = [*overrides, *([f"language={language}"] if language else [])]
    params = load_params(params_file, overrides)
    apply_privacy(params)
    import pandas as pd

    # tables shown in the notebook escape their values (a customer id is text, not markup);
    # the HTML export cleans every output again (crmlab.safety)
    pd.set_option("styler.format.escape", "html")
    from crmlab.plotting import use_cjk_fallback

    use_cjk_fallback()  # Chinese labels (a GBK export's segment or channel names) draw as text
    final = Path(params.paths.processed) / params.run_name
    processed = Path(processed_dir) if processed_dir else final
    run = Path(run_dir) if run_dir else Path(params.paths.outputs) / params.run_name / "interactive"
    fallback = final if processed.resolve() != final.resolve() else None
    ctx = StageContext(stage=decl, params=params, processed=processed, run_dir=run, fallback=fallback)
    for d in (ctx.processed, ctx.figures, ctx.tables):
        d.mkdir(parents=True, exist_ok=True)
    return ctx
