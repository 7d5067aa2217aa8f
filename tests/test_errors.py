"""The shared column check every stage uses on entry."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab.errors import InputError, require_columns


def test_require_columns_names_the_first_missing_column():
    df = pd.DataFrame({"a": [1], "b": [2]})
    require_columns(df, ["a", "b"], "t")  # all present: nothing happens
    with pytest.raises(InputError, match=r"^customers: required column 'c' missing$"):
        require_columns(df, ["a", "c", "d"], "customers")


def test_require_columns_accepts_dask_and_refuses_other_things():
    dd = pytest.importorskip("dask.dataframe")
    require_columns(dd.from_pandas(pd.DataFrame({"date": [1]}), npartitions=1), ["date"], "transactions")
    with pytest.raises(InputError, match="transactions: expected a DataFrame, got dict"):
        require_columns({"date": [1]}, ["date"], "transactions")
