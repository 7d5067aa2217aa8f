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

        path = _save_table_fast(table, self.tables, name, index)
        return path if path is not None else save_table(table, self.tables, name, index=index)

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
        self.save_figure(fig, result.name)
        if save_table and result.table is not None:
            self.save_table(result.table, result.table_name or result.name)
        plt.show()
        return result


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


# --- a table as CSV without a Python object per cell ---------------------------------------

FAST_CSV_ROWS = 20_000  # smaller tables go through pandas (nothing to gain)
_CSV_SPECIAL = (",", '"', "\r", "\n")  # a cell holding one of these is quoted by the csv module


def _save_table_fast(table: Any, folder: Path, name: str, index: bool,
                     min_rows: int = FAST_CSV_ROWS) -> Path | None:
    """Write ``table`` as :func:`crmlab.io.save_table` would, byte for byte, or return None.

    ``save_table`` neutralises formulas (a Python call per text cell) and has pandas format
    every float (one repr per cell) and the csv module join the cells. Here a float column
    is formatted once per distinct value (by bit pattern: ``-0.0`` is not ``0.0``), with the
    same ``numpy`` text pandas uses, integers and texts are joined into lines by Arrow, and
    only the cells that start like a formula go through
    :func:`crmlab.safety.neutralise_formulas`' rule. Anything else -- an index to write, a
    column of another type, a cell the csv module would quote, a table of fewer than
    ``min_rows`` rows -- returns None, and the caller writes it the general way.
    """
    body = _csv_lines(table, index, min_rows)
    if body is None:
        return None
    from crmlab.io.writers import _atomic_write

    def write(p: Path) -> None:
        with open(p, "wb") as fh:
            fh.write(b"\xef\xbb\xbf")  # utf-8-sig, as save_table
            fh.write(body[0])
            fh.write(body[1])

    return _atomic_write(Path(folder) / f"{name}.csv", write)


def _csv_lines(table: Any, index: bool, min_rows: int) -> tuple[bytes, Any] | None:
    """Return the header line and the body (an Arrow buffer) of the CSV, or None."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from crmlab.safety import neutralise_formulas

    if (index or not isinstance(table, pd.DataFrame) or len(table) < max(min_rows, 1)
            or table.shape[1] < 2 or isinstance(table.columns, pd.MultiIndex)):
        return None
    labels = list(neutralise_formulas(table.iloc[:0]).columns)
    if not all(isinstance(c, str) and not any(s in c for s in _CSV_SPECIAL) for c in labels):
        return None
    cells = []
    for col in range(table.shape[1]):
        text = _csv_cells(table.iloc[:, col])
        if text is None:
            return None
        cells.append(text)
    crlf = pa.scalar("\r\n", type=pa.large_string())
    comma, none = pa.scalar(",", type=pa.large_string()), pa.scalar("", type=pa.large_string())
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, comma), crlf, none)
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    body = lines.buffers()[2][first:end]  # the lines one after the other
    return (",".join(labels) + "\r\n").encode("utf-8"), body


def _csv_cells(s: Any) -> Any:
    """Return the column's cells as pandas writes them (large_string, no null), or None."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from crmlab.safety import FORMULA_START, neutralise_formulas

    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype == np.float64:
        v = s.to_numpy()
        nan = np.isnan(v)
        bits = v.view(np.int64)
        uniq, inv = np.unique(bits[~nan], return_inverse=True)
        text = np.full(len(v), -1, dtype=np.int64)
        text[~nan] = inv
        names = pa.array(list(uniq.view(np.float64).astype(str)) + [""], type=pa.large_string())
        return names.take(pa.array(text % (len(uniq) + 1)))
    if isinstance(dtype, np.dtype) and dtype == np.int64:
        return pc.cast(pa.array(s.to_numpy()), pa.large_string())
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        arr = pa.array(s.array)
    elif (isinstance(dtype, np.dtype) and dtype.kind == "O"
          and pd.api.types.infer_dtype(s, skipna=True) == "string"):  # text or missing
        try:
            arr = pa.array(s.to_numpy(), type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    else:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string()).fill_null("")
    # the bytes of the cells: an ASCII byte in UTF-8 is always that character
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    buf = arr.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8)[offsets[0]: offsets[-1]] if buf else np.zeros(0, np.uint8)
    offsets = offsets - offsets[0]
    if _byte_table(_CSV_SPECIAL)[data].any():
        return None
    first = np.zeros(len(arr), dtype=np.uint8)  # each cell's first byte (0 when empty)
    filled = offsets[1:] > offsets[:-1]
    first[filled] = data[offsets[:-1][filled]]
    formula = _byte_table(FORMULA_START)[first]
    risky = np.flatnonzero(formula)
    if len(risky):  # the few cells that look like formulas: neutralise_formulas' own rule
        fixed = neutralise_formulas(pd.DataFrame({"c": arr.take(risky).to_pylist()}, dtype=object))
        slot = np.zeros(len(arr), dtype=np.int64)
        slot[risky] = np.arange(len(risky))
        fixed = pa.array(fixed["c"].tolist(), type=pa.large_string()).take(pa.array(slot))
        arr = pc.if_else(pa.array(formula), fixed, arr)
    return arr


def _byte_table(chars) -> Any:
    """Return a 256-entry boolean table, True at the (ASCII) characters ``chars``."""
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[[ord(c) for c in chars]] = True
    return table
