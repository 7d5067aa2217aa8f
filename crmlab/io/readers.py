"""Reading user files: text (CSV and friends), Excel and Parquet, checked on the way in.

Readers return the raw table with every column as text (``str``), so the cleaning rules can
see, repair and count what was in the file; Parquet keeps its types. A file is checked
before it is read (a regular file, not empty, not above ``max_size_mb``, a header line of
sane length and names) and personal columns named in ``pii_columns`` are dropped or
pseudonymised (:mod:`crmlab.privacy`).
"""

from __future__ import annotations

import os
import stat
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.errors import InputError, InputWarning
from crmlab.io.sniff import (
    REPLACEMENT,
    SAMPLE_BYTES,
    WHITESPACE,
    detect_encoding_report,
    sniff_separator,
)

__all__ = [
    "TableInfo",
    "read_table",
    "read_header",
    "read_input",
    "read_input_dask",
    "check_columns",
    "check_inputs",
]

TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".dat", ".tab", ""}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
PARQUET_SUFFIXES = {".parquet", ".pq"}

MAX_HEADER_BYTES = 1 << 20  # the header line must end within this many bytes
MAX_COLUMNS = 10_000


@dataclass(frozen=True)
class TableInfo:
    """What the reader found out about a file: format, encoding, separator."""

    path: str
    format: str  # text | excel | parquet
    encoding: str | None
    sep: str | None
    notes: tuple[str, ...] = ()  # what the reader was not sure of (also issued as warnings)
    privacy: Mapping[str, Any] | None = None  # crmlab.privacy.PiiScreen.as_dict() of the input


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix in PARQUET_SUFFIXES or path.is_dir():
        return "parquet"
    return "text"


def _check_file(path: Path, max_bytes: float | None = None) -> None:
    """Only regular files (or a Parquet folder), not empty, not above ``max_bytes``."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        if path.suffix.lower() in (TEXT_SUFFIXES | EXCEL_SUFFIXES) - {""}:
            raise InputError(f"{path}: is a folder, not a file")  # other folders: Parquet datasets
        return
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: not a regular file (a device, pipe or socket cannot be read)")
    if st.st_size == 0:
        raise InputError(f"{path}: file is empty")
    if max_bytes is not None and st.st_size > max_bytes:
        raise InputError(
            f"{path}: file is {st.st_size / 2**20:,.0f} MB, above max_size_mb "
            f"({max_bytes / 2**20:,.0f}); raise max_size_mb in its params section if it is right"
        )
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: not readable (permission denied)")


def _check_header_line(path: Path, sample: bytes) -> None:
    """Refuse a text file whose first line does not end within MAX_HEADER_BYTES."""
    if len(sample) >= MAX_HEADER_BYTES and b"\n" not in sample[:MAX_HEADER_BYTES] \
            and b"\r" not in sample[:MAX_HEADER_BYTES]:
        raise InputError(
            f"{path}: the first line is longer than {MAX_HEADER_BYTES // 2**20} MB; "
            "this is not a delimited table (or its header is far too wide)"
        )


def _check_names(path: Path, names: list[str]) -> None:
    if len(names) > MAX_COLUMNS:
        raise InputError(f"{path}: {len(names):,} columns, more than {MAX_COLUMNS:,}; not a table crmlab reads")
    counts = Counter(names)  # linear: a wide header must not cost quadratic time
    seen = [n for n in names if counts[n] > 1]
    if seen:
        raise InputError(f"{path}: column {seen[0]!r} appears more than once in the header")


def read_table(
    path: str | Path,
    encoding: str = "auto",
    sep: str | None = None,
    sheet_name: Any = None,
    reader: Mapping[str, Any] | None = None,
    nrows: int | None = None,
    max_size_mb: float | None = None,
) -> tuple[pd.DataFrame, TableInfo]:
    """Read a CSV/TSV/whitespace text file, an Excel sheet or a Parquet file.

    Parameters
    ----------
    path : str or Path
        The file. ``.xlsx/.xls`` are Excel, ``.parquet`` (or a folder) Parquet, else text.
    encoding : str
        ``"auto"`` detects UTF-8 / UTF-8 with BOM / GB18030 (GBK); else a Python codec.
    sep : str, optional
        Text delimiter; ``None`` sniffs it (``,`` ``;`` tab ``|`` or white space).
    sheet_name : str or int, optional
        Excel sheet; ``None`` is the first sheet.
    reader : mapping, optional
        Extra keyword arguments for the pandas reader (``skiprows``, ``comment`` ...).
    nrows : int, optional
        Read only the first rows (used to check headers).
    max_size_mb : float, optional
        Refuse a larger file before reading it.

    Returns
    -------
    (DataFrame, TableInfo)
        Text and Excel columns are strings (cells kept exactly, blanks as ``""``), with
        header names stripped of surrounding white space.

    Raises
    ------
    InputError
        Missing, empty, too large or not a regular file; undecodable text; a first line
        longer than 1 MB; a file pandas cannot parse; or no data rows.
    """
    path = Path(path)
    _check_file(path, None if max_size_mb is None else max_size_mb * 2**20)
    opts = dict(reader or {})
    fmt = _format_of(path)
    notes: list[str] = []
    errors = "strict"
    try:
        if fmt == "parquet":
            df = pd.read_parquet(path, **opts)
            if nrows is not None:
                df = df.head(nrows)
            info = TableInfo(str(path), fmt, None, None)
        elif fmt == "excel":
            df = pd.read_excel(
                path,
                sheet_name=0 if sheet_name is None else sheet_name,
                dtype=str,
                keep_default_na=False,
                nrows=nrows,
                **opts,
            )
            info = TableInfo(str(path), fmt, None, None)
        else:
            with path.open("rb") as fh:
                sample = fh.read(max(SAMPLE_BYTES, MAX_HEADER_BYTES))
            _check_header_line(path, sample)
            if encoding == "auto":
                enc, errors, note = detect_encoding_report(path)
                notes += [note] if note else []
            else:
                enc = encoding
            if sep is None:
                text = sample.decode(enc, errors="ignore")
                sep = sniff_separator(text)
            df = pd.read_csv(
                path,
                sep=sep,
                encoding=enc,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skipinitialspace=sep != WHITESPACE,
                nrows=nrows,
                engine="c",
                encoding_errors=errors,
                **opts,
            )
            info = TableInfo(str(path), fmt, enc, sep)
            if not {"header", "names"} & set(opts):
                # pandas renames a repeated header ("id", "id.1") without a word; read the
                # header row as data to see the names exactly as the file has them
                first = pd.read_csv(
                    path, sep=sep, encoding=enc, header=None, nrows=1, dtype=str,
                    keep_default_na=False, engine="c", encoding_errors=errors,
                    **{k: v for k, v in opts.items() if k in ("skiprows", "comment", "quotechar")},
                )
                names = [str(c).strip() for c in first.iloc[0].tolist()] if len(first) else []
                _check_names(path, names)
    except InputError:
        raise
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(f"{path}: cannot decode with encoding {encoding!r} ({exc})") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: no header or data rows") from None
    except (pd.errors.ParserError, ValueError, TypeError, OSError, ImportError, MemoryError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as {fmt} ({first})") from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty and nrows is None:
        raise InputError(f"{path}: has a header but no data rows")
    _check_names(path, list(df.columns))
    if errors == "replace" and nrows is None:
        text = df.select_dtypes(include=["object", "string"])
        hit = int(text.apply(lambda c: c.str.contains(REPLACEMENT, regex=False)).any(axis=1).sum()) \
            if len(text.columns) else 0
        notes.append(f"{path}: {hit} row(s) hold undecodable bytes (shown as U+FFFD)")
    for note in notes:
        warnings.warn(note, InputWarning, stacklevel=2)
    if notes:
        info = TableInfo(info.path, info.format, info.encoding, info.sep, tuple(notes))
    return df, info


def read_header(path: str | Path, **kwargs: Any) -> list[str]:
    """Column names of a file (a few rows only; a Parquet file or folder: its schema only).

    A Parquet input is never read: the names come from the file footer (or, for a folder,
    the dataset's schema, partition folders such as ``customer_bucket=003`` included), so
    checking the inputs of a run on data larger than memory costs nothing. A header without
    data rows is an error.
    """
    path = Path(path)
    if _format_of(path) == "parquet":
        _check_file(path)
        names = _parquet_names(path)  # also says when the file is not Parquet
        if path.is_file() and _parquet_rows(path) == 0:
            raise InputError(f"{path}: has a header but no data rows")
        return names
    df, _ = read_table(path, nrows=5, **kwargs)
    if df.empty:
        raise InputError(f"{path}: has a header but no data rows")
    return list(df.columns)


def _parquet_rows(path: Path) -> int:
    """Rows of a single Parquet file, from its footer."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _parquet_names(path: Path) -> list[str]:
    """Column names of a Parquet file or dataset folder, from its schema (no row is read)."""
    import pyarrow as pa
    import pyarrow.dataset as pads

    try:
        schema = pads.dataset(path, format="parquet", partitioning="hive").schema
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as parquet ({first})") from None
    names = [str(n).strip() for n in schema.names if not str(n).startswith("__index_level_")]
    if not names:
        raise InputError(f"{path}: no columns")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{path}: column {dup[0]!r} appears more than once in the header")
    return names


def check_columns(path: str | Path, columns: Iterable[str], header: list[str], what: str) -> None:
    """Raise ``InputError`` naming the first of ``columns`` missing from ``header``."""
    for col in columns:
        if col not in header:
            hint = ", ".join(header[:12]) + (" ..." if len(header) > 12 else "")
            raise InputError(f"{path}: {what} column {col!r} not found (columns: {hint})")


# reader options only Dask's readers understand: the pandas readers (and the header
# check) never see them, so one params file serves both engines
DASK_ONLY_READER_OPTIONS = frozenset(
    {"blocksize", "split_row_groups", "aggregate_files", "calculate_divisions",
     "split_stripes", "sample", "sample_rows", "assume_missing", "include_path_column",
     "dataset", "parquet_file_extension", "index"}
)


def _reader_kwargs(section: Mapping[str, Any]) -> dict[str, Any]:
    reader = {k: v for k, v in (section["reader"] or {}).items()
              if k not in DASK_ONLY_READER_OPTIONS}
    return {
        "encoding": section["encoding"],
        "sep": section["sep"],
        "sheet_name": section["sheet_name"],
        "reader": reader,
        "max_size_mb": section.get("max_size_mb"),
    }


def _privacy_roles(section: Mapping[str, Any]) -> tuple[list[str], list[str], bool]:
    """(protected columns, id columns, drop?) of an input section, by its kind.

    Transactions: the cleaning rules drop and report personal columns themselves (its
    quarantine and report name them), so the reader only pseudonymises the customer id.
    Survey: items, group and recommend are kept, ``id`` is an id. Churn: the target is kept,
    ``id`` is an id. Any other section: ``id``/``columns.customer_id`` are ids.
    """
    if "constructs" in section:  # survey
        items = [i for its in section["constructs"].values() for i in its]
        keep = items + [section.get(k) for k in ("group", "recommend")] + list(section.get("reversed") or [])
        return [c for c in keep if c], [section.get("id")], True
    cols = section.get("columns") or {}
    if "customer_id" in cols and "amount" in cols:  # transactions
        return [c for c in cols.values() if c], [cols.get("customer_id")], False
    if "target" in section:  # churn
        return [section["target"]], [section.get("id")], True
    return [c for c in cols.values() if c], [section.get("id"), cols.get("customer_id")], True


def read_input(section: Mapping[str, Any]) -> tuple[pd.DataFrame, TableInfo]:
    """Read the file a params input section names (``transactions``, ``survey``, ``churn``).

    The section's ``path``, ``encoding``, ``sep``, ``sheet_name``, ``reader`` and
    ``max_size_mb`` options are passed to :func:`read_table`; then every input goes through
    the personal-data screen :func:`crmlab.privacy.screen_pii` (declared ``pii_columns``
    and columns that look personal dropped, an id column holding personal data
    pseudonymised); what it did is ``TableInfo.privacy`` (column names only).
    """
    from dataclasses import replace

    from crmlab.privacy import screen_pii

    df, info = read_table(section["path"], **_reader_kwargs(section))
    protected, ids, drop = _privacy_roles(section)
    declared = list(section.get("pii_columns") or [])
    df, screen = screen_pii(df, declared, protected, [i for i in ids if i], source=section["path"], drop=drop)
    return df, replace(info, privacy=screen.as_dict())


def read_input_dask(section: Mapping[str, Any], blocksize: str | int = "64MB") -> tuple[Any, TableInfo]:
    """Read an input section's file as a Dask DataFrame (text columns, like :func:`read_table`).

    Text files are split into blocks of ``blocksize`` bytes read in parallel; the encoding
    and delimiter are detected exactly as :func:`read_table` does. Parquet is read lazily,
    one partition per row group (unless ``reader`` sets ``split_row_groups`` or ``blocksize``);
    Excel (which cannot be split) is read whole and wrapped. Partitions are in file order.

    Returns
    -------
    (dask.dataframe.DataFrame, TableInfo)
    """
    import dask.dataframe as dd

    path = Path(section["path"])
    _check_file(path, None if section.get("max_size_mb") is None else section["max_size_mb"] * 2**20)
    fmt = _format_of(path)
    opts = dict(section.get("reader") or {})
    if fmt != "text":
        if fmt == "parquet":
            # one partition per row group: Dask's default packs 256 MiB of *uncompressed*
            # Parquet into one, 14M text rows of an export, and the cleaning's memory
            # follows the rows of a partition
            if "split_row_groups" not in opts and "blocksize" not in opts:
                opts["split_row_groups"] = True
            return dd.read_parquet(path, **opts), TableInfo(str(path), fmt, None, None)
        df, info = read_input(section)
        return dd.from_pandas(df, npartitions=max(1, len(df) // 1_000_000), sort=False), info
    blocksize = opts.pop("blocksize", blocksize)
    pandas_opts = {k: v for k, v in opts.items() if k not in DASK_ONLY_READER_OPTIONS}
    header = read_header(path, encoding=section["encoding"], sep=section["sep"],
                         reader=pandas_opts)
    enc, errors, _ = (detect_encoding_report(path) if section["encoding"] == "auto"
                      else (section["encoding"], "strict", None))
    sep = section["sep"]
    if sep is None:
        with path.open("rb") as fh:
            sep = sniff_separator(fh.read(SAMPLE_BYTES).decode(enc, errors="ignore"))
    ddf = dd.read_csv(
        str(path), sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_filter=False,
        skipinitialspace=sep != WHITESPACE, blocksize=blocksize, engine="c",
        encoding_errors=errors, **opts,
    )
    ddf = ddf.rename(columns=dict(zip(ddf.columns, header, strict=True)))
    ddf, privacy = _pseudonymise_dask(ddf, section)
    return ddf, TableInfo(str(path), fmt, enc, sep, privacy=privacy)


def leading_rows(raw: Any, n: int) -> pd.DataFrame:
    """Return the first ``n`` rows of a Dask frame, reading as few partitions as needed.

    ``head(n, npartitions=-1)`` reads every partition whole; this reads the first one,
    then twice as many, until ``n`` rows are there or every partition has been read.
    """
    k = 1
    while True:
        k = min(k, raw.npartitions)
        with warnings.catch_warnings():  # fewer rows than n in the first k: read more
            warnings.filterwarnings("ignore", message="Insufficient elements")
            head = raw.head(n, npartitions=k if k < raw.npartitions else -1)
        if len(head) >= n or k >= raw.npartitions:
            return head
        k *= 2


def _pseudonymise_dask(ddf: Any, section: Mapping[str, Any]) -> tuple[Any, dict]:
    """Screen a Dask-read input for personal data as :func:`read_input` does.

    Decided on the first rows; ids are pseudonymised partition by partition (columns are
    dropped by the cleaning rules, as in the pandas path).
    """
    from crmlab.privacy import pseudonym_key, screen_pii

    protected, ids, _ = _privacy_roles(section)
    ids = [i for i in ids if i and i in ddf.columns]
    _, screen = screen_pii(leading_rows(ddf, 1000), list(section.get("pii_columns") or []),
                           protected, ids, source=section["path"], drop=False)
    if not screen.pseudonymised:
        return ddf, screen.as_dict()
    from crmlab.privacy import pseudonymise

    key = pseudonym_key()

    def part(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        for col, kind in screen.pseudonymised.items():
            df[col] = pseudonymise(df[col], key, None if kind == "named" else kind)
        return df

    return ddf.map_partitions(part, meta=ddf._meta), screen.as_dict()


def check_inputs(params: Mapping[str, Any]) -> list[str]:
    """Check that every input file named in params exists and has the mapped columns.

    Reads headers only. Returns one line per checked file for the CLI to print.

    Raises
    ------
    InputError
        Naming the file and the missing column or key.
    """
    done = []
    tx = params.get("transactions")
    if tx:
        header = read_header(tx["path"], **_reader_kwargs(tx))
        mapped = [c for c in tx["columns"].values() if c]
        check_columns(tx["path"], mapped, header, "mapped")
        check_columns(tx["path"], tx["pii_columns"], header, "PII (pii_columns)")
        done.append(f"transactions: {tx['path']} ({len(header)} columns)")
    sv = params.get("survey")
    if sv:
        header = read_header(sv["path"], **_reader_kwargs(sv))
        items = [i for items in sv["constructs"].values() for i in items]
        check_columns(sv["path"], items, header, "survey item")
        extra = [sv[k] for k in ("id", "group", "recommend") if sv.get(k)] + list(sv["reversed"])
        check_columns(sv["path"], extra, header, "survey")
        check_columns(sv["path"], sv.get("pii_columns") or [], header, "PII (pii_columns)")
        done.append(f"survey: {sv['path']} ({len(items)} items)")
    ch = params.get("churn")
    if ch:
        header = read_header(ch["path"], **_reader_kwargs(ch))
        check_columns(ch["path"], [ch["target"]] + ([ch["id"]] if ch["id"] else []), header, "churn")
        check_columns(ch["path"], ch.get("pii_columns") or [], header, "PII (pii_columns)")
        done.append(f"churn: {ch['path']} ({len(header)} columns)")
    ix = params.get("interactions")
    if ix:
        header = read_header(ix["path"], **_reader_kwargs(ix))
        for canon, col in ix["columns"].items():
            if col:
                check_columns(ix["path"], [col], header, f"interactions.columns.{canon}")
        check_columns(ix["path"], ix.get("pii_columns") or [], header, "PII (pii_columns)")
        types = _check_interaction_types(ix)
        done.append(f"interactions: {ix['path']} ({len(header)} columns, {types} type values mapped)")
    return done


def _check_interaction_types(section: Mapping[str, Any]) -> int:
    """Read only the log's type column and map it with ``type_map``; return the distinct values.

    A value without an entry is a params problem that would otherwise stop the chain only
    when the interactions stage starts, after the stages before it have run.
    """
    from crmlab.interactions.read import map_types  # lazy: the stage's reader

    col = section["columns"]["type"]
    path = Path(section["path"])
    kwargs = _reader_kwargs(section)
    if _format_of(path) == "parquet":
        kwargs["reader"] = {**kwargs["reader"], "columns": [col]}
    else:
        kwargs["reader"] = {**kwargs["reader"], "usecols": [col]}
    df, _ = read_table(path, **kwargs)
    map_types(df[col], section["type_map"], str(path), col)
    return int(df[col].nunique())
