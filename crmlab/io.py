"""Reading user files and writing products — the only module that touches the disk.

Readers return the raw table with every column as text (``str``), so the cleaning rules can
see, repair and count what was in the file; Parquet keeps its types. Writers are atomic:
a product is written to a temporary file beside its target and moved into place, so a
crash never leaves half a file under the name a later stage or a dashboard reads.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import stat
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.errors import InputError, InputWarning

__all__ = [
    "TableInfo",
    "detect_encoding",
    "detect_encoding_report",
    "sniff_separator",
    "read_table",
    "read_header",
    "read_input",
    "read_input_dask",
    "check_columns",
    "check_inputs",
    "file_sha256",
    "write_parquet",
    "write_json",
    "write_text",
    "read_json",
    "save_figure",
    "save_table",
]

TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".dat", ".tab", ""}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
WHITESPACE = r"\s+"

_SAMPLE_BYTES = 1 << 20  # 1 MiB decides encoding and separator
MAX_HEADER_BYTES = 1 << 20  # the header line must end within this many bytes
MAX_COLUMNS = 10_000
REPLACEMENT = "\ufffd"  # what an undecodable byte becomes (rows holding it are flagged)


@dataclass(frozen=True)
class TableInfo:
    """What the reader found out about a file: format, encoding, separator."""

    path: str
    format: str  # text | excel | parquet
    encoding: str | None
    sep: str | None
    notes: tuple[str, ...] = ()  # what the reader was not sure of (also issued as warnings)
    privacy: Mapping[str, Any] | None = None  # crmlab.privacy.PiiScreen.as_dict() of the input


def detect_encoding(path: str | Path, sample_bytes: int = 8 * _SAMPLE_BYTES) -> str:
    """Guess a text file's encoding: ``utf-8-sig`` (BOM), ``utf-8``, else ``gb18030``.

    GB18030 is a superset of GBK and GB2312, the encodings Chinese Excel/ERP exports use.
    UTF-8 is tried first because valid UTF-8 is almost never accidental; the file is read
    incrementally so a large file costs one pass at most.

    Raises
    ------
    InputError
        When neither UTF-8 nor GB18030 decodes the file; set ``encoding`` in params.
    """
    return detect_encoding_report(path, sample_bytes)[0]


def _decode_counts(path: Path, enc: str, chunk_bytes: int) -> tuple[int, int]:
    """(undecodable bytes, non-ASCII characters) of the whole file in ``enc``."""
    dec = codecs.getincrementaldecoder(enc)(errors="replace")
    bad = other = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(chunk_bytes)
            text = dec.decode(chunk, final=not chunk)
            n_bad = text.count(REPLACEMENT)
            bad += n_bad
            other += sum(1 for ch in text if ord(ch) > 127) - n_bad
            if not chunk:
                return bad, other


def _gb_counts(path: Path, chunk_bytes: int) -> tuple[int, int]:
    """(non-ASCII characters, rare ones) of a GB18030 file.

    Chinese text is made of GB2312 characters, both bytes >= 0xA1; a byte pair whose second
    byte is ASCII (GBK extension) or a four-byte sequence is rare in real text but is what
    Latin-1 letters followed by ASCII letters decode to.
    """
    dec = codecs.getincrementaldecoder("gb18030")()
    chars = odd = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(chunk_bytes)
            for ch in dec.decode(chunk, final=not chunk):
                if ord(ch) > 127:
                    chars += 1
                    b = ch.encode("gb18030")
                    odd += len(b) != 2 or b[1] < 0xA1
            if not chunk:
                return chars, odd


def _decodes(path: Path, enc: str, chunk_bytes: int) -> bool:
    dec = codecs.getincrementaldecoder(enc)()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(chunk_bytes):
                dec.decode(chunk, final=False)
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding_report(
    path: str | Path, sample_bytes: int = 8 * _SAMPLE_BYTES
) -> tuple[str, str, str | None]:
    r"""Choose the encoding that fits the *whole* file, and say when the choice is not clean.

    1. a byte-order mark decides (``utf-8-sig``, ``utf-16``);
    2. the whole file decodes as UTF-8 -> ``utf-8``;
    3. the file is mostly UTF-8 (at least as many well-formed multi-byte characters as
       stray bytes, e.g. one Latin-1 ``\xe9`` among ``Müller``s) -> ``utf-8`` with the
       stray bytes replaced by U+FFFD and a note (a warning with the row count); cleaning
       quarantines the rows whose ids hold them (``undecodable_text``);
    4. the whole file decodes as GB18030 (GBK) -> ``gb18030``, with a note when the
       choice rests on fewer than 20 non-ASCII characters (a few Latin-1 letters also
       happen to be valid GB18030 pairs);
    5. otherwise an error asking for ``encoding`` in the params.

    Returns
    -------
    (encoding, errors, note)
        ``errors`` is ``"strict"`` or ``"replace"`` (for the decoder); ``note`` is None when
        the file decodes cleanly and unambiguously.
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", "strict", None
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", "strict", None
    if _decodes(path, "utf-8", sample_bytes):
        return "utf-8", "strict", None
    bad, multi = _decode_counts(path, "utf-8", sample_bytes)
    if multi >= bad:
        return "utf-8", "replace", (
            f"{path}: {bad} byte(s) are not valid UTF-8 in an otherwise UTF-8 file; they are "
            "read as U+FFFD and the rows holding them are flagged (set 'encoding' if the "
            "file is in another encoding)"
        )
    if _decodes(path, "gb18030", sample_bytes):
        chars, odd = _gb_counts(path, sample_bytes)
        note = None
        if chars < 20 or odd > 0.1 * chars:
            note = (
                f"{path}: not UTF-8; read as GB18030, but {odd} of its {chars} non-ASCII "
                "characters are rare ones (Latin-1 letters such as 'ü' look like them) — if "
                "names look garbled set 'encoding' (e.g. latin-1) in the params"
            )
        return "gb18030", "strict", note
    raise InputError(
        f"{path}: cannot tell the text encoding (not UTF-8 or GB18030/GBK); "
        "set 'encoding' in the params, e.g. encoding: latin-1"
    )


def sniff_separator(text: str) -> str:
    """Guess the delimiter of a delimited text sample.

    Tries ``,``, ``;``, tab and ``|`` — a candidate wins when it splits every sampled line
    into the same number (>1) of fields; otherwise runs of white space are the delimiter
    (fixed-width style files such as CDNOW).
    """
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    best, best_fields = None, 1
    for cand in (",", ";", "\t", "|"):
        try:
            rows = list(csv.reader(lines, delimiter=cand))
        except csv.Error:
            continue
        counts = {len(r) for r in rows}
        if len(counts) == 1 and (n := counts.pop()) > best_fields:
            best, best_fields = cand, n
    if best is not None:
        return best
    ws = {len(ln.split()) for ln in lines}
    if len(ws) == 1 and ws.pop() > 1:
        return WHITESPACE
    # ragged: fall back to the candidate seen most often in the header line
    return max((",", ";", "\t", "|"), key=lambda c: lines[0].count(c))


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
                sample = fh.read(max(_SAMPLE_BYTES, MAX_HEADER_BYTES))
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
    """Column names of a file (reads a few rows only; a header without rows is an error)."""
    df, _ = read_table(path, nrows=5, **kwargs)
    if df.empty:
        raise InputError(f"{path}: has a header but no data rows")
    return list(df.columns)


def check_columns(path: str | Path, columns: Iterable[str], header: list[str], what: str) -> None:
    """Raise ``InputError`` naming the first of ``columns`` missing from ``header``."""
    for col in columns:
        if col not in header:
            hint = ", ".join(header[:12]) + (" ..." if len(header) > 12 else "")
            raise InputError(f"{path}: {what} column {col!r} not found (columns: {hint})")


def _reader_kwargs(section: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "encoding": section["encoding"],
        "sep": section["sep"],
        "sheet_name": section["sheet_name"],
        "reader": section["reader"],
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
    and delimiter are detected exactly as :func:`read_table` does. Parquet is read lazily;
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
            return dd.read_parquet(path, **opts), TableInfo(str(path), fmt, None, None)
        df, info = read_input(section)
        return dd.from_pandas(df, npartitions=max(1, len(df) // 1_000_000), sort=False), info
    header = read_header(path, encoding=section["encoding"], sep=section["sep"], reader=opts)
    enc, errors, _ = detect_encoding_report(path) if section["encoding"] == "auto" else (section["encoding"], "strict", None)
    sep = section["sep"]
    if sep is None:
        with path.open("rb") as fh:
            sep = sniff_separator(fh.read(_SAMPLE_BYTES).decode(enc, errors="ignore"))
    ddf = dd.read_csv(
        str(path), sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_filter=False,
        skipinitialspace=sep != WHITESPACE, blocksize=blocksize, engine="c",
        encoding_errors=errors, **opts,
    )
    ddf = ddf.rename(columns=dict(zip(ddf.columns, header, strict=True)))
    ddf, privacy = _pseudonymise_dask(ddf, section)
    return ddf, TableInfo(str(path), fmt, enc, sep, privacy=privacy)


def _pseudonymise_dask(ddf: Any, section: Mapping[str, Any]) -> tuple[Any, dict]:
    """Screen a Dask-read input for personal data as :func:`read_input` does.

    Decided on the first rows; ids are pseudonymised partition by partition (columns are
    dropped by the cleaning rules, as in the pandas path).
    """
    from crmlab.privacy import pseudonym_key, screen_pii

    protected, ids, _ = _privacy_roles(section)
    ids = [i for i in ids if i and i in ddf.columns]
    _, screen = screen_pii(ddf.head(1000, npartitions=-1), list(section.get("pii_columns") or []),
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
    return done


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file (or of every file below a folder, in sorted order)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with f.open("rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    return h.hexdigest()


def _atomic_write(target: str | Path, write: Callable[[Path], None]) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        # mkstemp creates the file private (0600); products and reports are meant to be read
        # by the team on a shared server, like any file the user writes (rw-r--r--)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return target


def write_parquet(df: pd.DataFrame, target: str | Path) -> Path:
    """Write a DataFrame to Parquet (pyarrow) atomically, without the index."""
    return _atomic_write(target, lambda p: df.to_parquet(p, index=False, engine="pyarrow"))


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if isinstance(o, (pd.Timestamp,)):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_json(obj: Any, target: str | Path) -> Path:
    """Write JSON (indented, UTF-8, numpy scalars converted) atomically."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default, allow_nan=False)
    return write_text(text + "\n", target)


def write_text(text: str, target: str | Path) -> Path:
    """Write UTF-8 text atomically."""
    return _atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def read_json(path: str | Path) -> Any:
    """Read a JSON product."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def save_figure(fig: Any, folder: str | Path, name: str, dpi: int = 110) -> Path:
    """Save a Matplotlib figure as ``<folder>/<name>.png`` atomically and return the path.

    Notebooks call this after drawing (drawing itself lives in :mod:`crmlab.plots`); the
    figure stays open so the notebook still shows it inline.
    """
    return _atomic_write(
        Path(folder) / f"{name}.png", lambda p: fig.savefig(p, format="png", dpi=dpi, bbox_inches="tight")
    )


def save_table(df: pd.DataFrame, folder: str | Path, name: str, index: bool = False) -> Path:
    """Save a table as ``<folder>/<name>.csv`` (UTF-8 with BOM so Excel opens it) atomically.

    Text cells a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``, tab,
    CR) are written with a leading ``'`` (:func:`crmlab.safety.neutralise_formulas`);
    numbers are written as they are. Lines end with CRLF (RFC 4180), so a cell holding a
    line break of either kind is quoted and the table keeps its shape.
    """
    from crmlab.safety import neutralise_formulas

    safe = neutralise_formulas(df)
    return _atomic_write(
        Path(folder) / f"{name}.csv",
        lambda p: safe.to_csv(p, index=index, encoding="utf-8-sig", lineterminator="\r\n"),
    )
