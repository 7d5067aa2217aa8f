"""Guessing what a text file is: its encoding and its separator.

Chinese Excel/ERP exports come in GB18030 (GBK), others in UTF-8 with or without a BOM,
a few in UTF-8 with stray Latin-1 bytes; separators are ``,``, ``;``, tab, ``|`` or runs of
white space (fixed-width files such as CDNOW). The readers (:mod:`crmlab.io.readers`) ask
here when the params say ``encoding: auto`` or ``sep: null``.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

from crmlab.errors import InputError

__all__ = ["WHITESPACE", "SAMPLE_BYTES", "REPLACEMENT", "detect_encoding", "detect_encoding_report",
           "sniff_separator"]

WHITESPACE = r"\s+"  # the separator of fixed-width style files
SAMPLE_BYTES = 1 << 20  # 1 MiB decides encoding and separator
REPLACEMENT = "\ufffd"  # what an undecodable byte becomes (rows holding it are flagged)


def detect_encoding(path: str | Path, sample_bytes: int = 8 * SAMPLE_BYTES) -> str:
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
    path: str | Path, sample_bytes: int = 8 * SAMPLE_BYTES
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
