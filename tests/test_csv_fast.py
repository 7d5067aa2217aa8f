"""crmlab.io.save_table's fast path for big tables writes the very bytes of the general path."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab.io import save_table
from crmlab.io.csv_fast import FAST_CSV_ROWS, csv_bytes
from crmlab.safety import neutralise_formulas


def _general(df, index=False):
    """The bytes of the general path: formulas neutralised, then pandas' CSV writer."""
    return neutralise_formulas(df).to_csv(index=index, lineterminator="\r\n").encode("utf-8-sig")


def _both(tmp_path, df, index=False):
    """Return (fast path used?, fast bytes, general bytes) of one table."""
    fast = csv_bytes(df, index, min_rows=0)
    if fast is not None:
        fast = b"\xef\xbb\xbf" + fast[0] + fast[1].to_pybytes()
    return fast is not None, fast, _general(df, index)


def _mixed(n=60):
    import numpy as np

    rng = np.random.default_rng(3)
    money = np.round(rng.gamma(2, 40, n), 2) * 1.0
    money[:8] = [0.1 + 0.2, -0.0, 0.0, np.nan, np.inf, -np.inf, 1e16, 1.5e-7]
    texts = ["Loyal", "=SUM(A1)", "-5.2", "+x", "@me", "\tTab", "r0-1", None, "中文 客户", "",
             "-", "1e5", "'quoted"]
    return pd.DataFrame({
        "customer_id": pd.array([f"c{i:03d}" for i in range(n)], dtype="str"),
        "value_tier": pd.array([texts[i % len(texts)] for i in range(n)], dtype="str"),
        "spend": money,
        "days": np.arange(n, dtype=np.float64) * 3.0,
        "orders": np.arange(n, dtype=np.int64) - 7,
        "note": pd.Series([texts[(i * 7) % len(texts)] for i in range(n)], dtype=object),
    })


def test_fast_csv_is_byte_identical(tmp_path):
    used, fast, slow = _both(tmp_path, _mixed())
    assert used and fast == slow
    assert b"'=SUM(A1)" in fast and b",-5.2," in fast and b"-0.0" in fast  # the rules held
    # column names that look like formulas are neutralised too
    used, fast, slow = _both(tmp_path, _mixed().rename(columns={"note": "=note"}))
    assert used and fast == slow


@pytest.mark.parametrize("change", [
    "comma", "quote", "newline", "cr", "index", "datetime", "bool", "int32", "mixed_object",
    "one_column", "int_label", "category",
])
def test_fast_csv_falls_back_where_pandas_differs(tmp_path, change):
    import numpy as np

    df, index = _mixed(), False
    if change in ("comma", "quote", "newline", "cr"):
        bad = {"comma": "a,b", "quote": 'say "hi"', "newline": "two\nlines", "cr": "x\ry"}[change]
        df.loc[5, "value_tier"] = bad
    elif change == "index":
        index = True
    elif change == "datetime":
        df["when"] = pd.Timestamp("2020-01-01")
    elif change == "bool":
        df["flag"] = df["orders"] > 0
    elif change == "int32":
        df["orders"] = df["orders"].astype(np.int32)
    elif change == "mixed_object":
        df["note"] = pd.Series([1, "a"] * 30, dtype=object)
    elif change == "one_column":
        df = df[["value_tier"]]
    elif change == "int_label":
        df.columns = range(df.shape[1])
    elif change == "category":
        df["value_tier"] = df["value_tier"].astype("category")
    used, fast, slow = _both(tmp_path, df, index)
    assert not used and fast is None


def test_small_tables_take_the_general_writer(tmp_path):
    assert csv_bytes(_mixed(), False) is None  # fewer than FAST_CSV_ROWS
    assert save_table(_mixed(), tmp_path, "small").read_bytes() == _general(_mixed())


def test_save_table_of_a_big_table_is_the_general_writers_bytes(tmp_path):
    big = pd.concat([_mixed()] * (FAST_CSV_ROWS // 60 + 1), ignore_index=True)
    assert csv_bytes(big, False) is not None
    assert save_table(big, tmp_path, "big").read_bytes() == _general(big)
