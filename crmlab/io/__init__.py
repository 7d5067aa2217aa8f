"""Reading user files and writing products: the only package that touches the disk.

:mod:`crmlab.io.sniff` guesses a text file's encoding and separator,
:mod:`crmlab.io.readers` reads and checks user files, :mod:`crmlab.io.writers` writes
products, figures and tables atomically. The names below are the package's public API.
"""

from crmlab.io.readers import (
    EXCEL_SUFFIXES,
    MAX_COLUMNS,
    MAX_HEADER_BYTES,
    PARQUET_SUFFIXES,
    TEXT_SUFFIXES,
    TableInfo,
    check_columns,
    check_inputs,
    read_header,
    read_input,
    read_input_dask,
    read_table,
)
from crmlab.io.sniff import (
    REPLACEMENT,
    WHITESPACE,
    detect_encoding,
    detect_encoding_report,
    sniff_separator,
)
from crmlab.io.writers import (
    file_sha256,
    read_json,
    save_figure,
    save_table,
    write_json,
    write_parquet,
    write_parquet_in_background,
    write_text,
)

__all__ = [
    "TEXT_SUFFIXES",
    "EXCEL_SUFFIXES",
    "PARQUET_SUFFIXES",
    "MAX_COLUMNS",
    "MAX_HEADER_BYTES",
    "WHITESPACE",
    "REPLACEMENT",
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
    "write_parquet_in_background",
    "write_json",
    "write_text",
    "read_json",
    "save_figure",
    "save_table",
]
