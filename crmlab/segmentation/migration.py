"""Migration: where the customers of each group at an earlier date are now.

The same rules are applied at two dates (:func:`crmlab.segmentation.customers.snapshot`)
and the two customer tables compared: a transition matrix per grouping, a summary of who
stayed and where the others went, and the retention list of customers who moved down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.segmentation.common import NEW_CUSTOMER, NOT_LISTED, TIER_ORDER

__all__ = [
    "transition_matrix",
    "transition_summary",
    "align_transitions",
    "moved_down",
]


def _category_order(values: Iterable[Any], order: Sequence[str] | None) -> list[str]:
    seen = sorted({str(v) for v in values})
    order = list(order or [])
    return [o for o in order] + [v for v in seen if v not in order]


def transition_matrix(before: pd.DataFrame, after: pd.DataFrame, col: str,
                      order: Sequence[str] | None = None, normalise: bool = False) -> pd.DataFrame:
    """Where customers in each group ``before`` ended up ``after``.

    Parameters
    ----------
    before, after : DataFrame
        Columns ``customer_id`` and ``col`` (e.g. two :func:`crmlab.segmentation.snapshot` tables).
    col : str
        The segmentation compared: ``value_tier``, ``lifecycle_stage``, ``rfm_segment`` ...
    order : sequence of str, optional
        Category order of rows and columns (all listed, even when empty); values not in it
        follow in name order.
    normalise : bool
        ``False``: counts. ``True``: row shares (each row sums to 1; NaN for an empty row).

    Returns
    -------
    DataFrame
        Rows ``<col>_before`` (plus a first row :data:`NEW_CUSTOMER` for customers only in
        ``after``, always shown), columns ``<col>_after`` (plus :data:`NOT_LISTED` when
        someone in ``before`` is missing from ``after``).

    Raises
    ------
    InputError
        On a missing column or a duplicated ``customer_id``.
    """
    for name, df in (("before", before), ("after", after)):
        require_columns(df, ["customer_id", col], name)
    pos = _align(before, after)
    return _transitions(before, after, col, order, normalise, pos)


def _id_array(df: pd.DataFrame):
    """Return ``customer_id`` as an Arrow large_string array (no Python object per row)."""
    import pyarrow as pa

    ids = df["customer_id"]
    if not (isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow"):
        ids = ids.astype("str")
    arr = pa.array(ids.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def _check_unique(arr, name: str) -> bool:
    """Raise when ``customer_id`` repeats; a strictly increasing column needs no hashing.

    Returns whether the ids are strictly increasing (no missing value).
    """
    import pyarrow.compute as pc

    n = len(arr)
    if arr.null_count == 0 and (
        n < 2 or pc.all(pc.less(arr.slice(0, n - 1), arr.slice(1))).as_py()
    ):
        return True
    if n >= 2 and pc.count_distinct(arr, mode="all").as_py() != n:
        raise InputError(f"{name}: 'customer_id' is not unique")
    return False


def _align(before: pd.DataFrame, after: pd.DataFrame) -> np.ndarray:
    """Row of ``after`` holding each ``before`` customer (-1 when absent); ids must be unique.

    One hash join of the two id columns (Arrow's ``index_in``) serves every comparison
    between the two dates, instead of a merge of string keys per table.
    """
    import pyarrow.compute as pc

    b, a = _id_array(before), _id_array(after)
    b_sorted = _check_unique(b, "before")
    a_sorted = _check_unique(a, "after")
    if b_sorted and a_sorted:  # customer tables come sorted by id: a merge, no hashing
        pos = _align_sorted(b, a)
        if pos is not None:
            return pos
    return pc.index_in(b, value_set=a).fill_null(-1).to_numpy(zero_copy_only=False).astype(
        np.int64, copy=False
    )


def _align_sorted(b, a) -> np.ndarray | None:
    """:func:`_align` of two strictly increasing id arrays, by integer codes in id order.

    Short ids are read as integer words (:func:`crmlab.features.keys._id_words`), both
    sides ranked together into codes that follow the id order, and ``after``'s codes
    searched for ``before``'s. None when the ids cannot be read as words.
    """
    from crmlab.features.keys import _id_words, _word_codes

    if len(b) == 0 or len(a) == 0:
        return None
    wb, wa = _id_words(b), _id_words(a)
    if wb is None or wa is None:
        return None
    width = max(wb.shape[1], wa.shape[1])
    words = np.zeros((len(wb) + len(wa), width), dtype=np.uint64)
    words[: len(wb), : wb.shape[1]] = wb
    words[len(wb) :, : wa.shape[1]] = wa
    del wb, wa
    code, _ = _word_codes(words, 1)
    cb, ca = code[: len(b)], code[len(b) :]
    at = np.searchsorted(ca, cb)  # both increasing: sorted queries
    np.minimum(at, len(ca) - 1, out=at)
    return np.where(ca[at] == cb, at, -1).astype(np.int64, copy=False)


def _codes_in(values: pd.Series, cats: list[str]) -> np.ndarray:
    """Position of each value in ``cats`` (values compared as text)."""
    codes, uniq = pd.factorize(values.astype(str), use_na_sentinel=False)
    where = {c: i for i, c in enumerate(cats)}
    lookup = np.array([where[str(u)] for u in uniq], dtype=np.int64)
    return lookup[codes] if len(codes) else np.array([], dtype=np.int64)


def _distinct_text(values: pd.Series) -> list[str]:
    return [str(v) for v in pd.unique(values.dropna().astype(str))]


def _text_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes of a group column (-1 where missing) and its distinct values as text, one pass.

    An Arrow text column is dictionary-encoded by Arrow; any other is factorised as
    text, as :func:`_codes_in` does, on its non-missing values.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        arr = pa.array(values.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = pc.dictionary_encode(arr)
        codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, [str(v) for v in enc.dictionary.to_pylist()]
    has = values.notna().to_numpy()
    codes = np.full(len(values), -1, dtype=np.int64)
    found, uniq = pd.factorize(values[has].astype(str), use_na_sentinel=False)
    codes[has] = found
    return codes, [str(u) for u in uniq]


def _codes_of(memo: dict | None, side: str, df: pd.DataFrame, col: str) -> tuple[np.ndarray, list[str]]:
    """:func:`_text_codes` of ``df[col]``, kept in ``memo`` for the other tables of a view."""
    if memo is None:
        return _text_codes(df[col])
    key = (side, col)
    if key not in memo:
        memo[key] = _text_codes(df[col])
    return memo[key]


def _recode(codes: np.ndarray, uniq: list[str], cats: list[str]) -> np.ndarray:
    """Positions in ``cats`` of coded values (-1 stays -1)."""
    where = {c: i for i, c in enumerate(cats)}
    lookup = np.array([where[u] for u in uniq] + [-1], dtype=np.int64)
    return lookup[codes]  # code -1 takes the last entry: -1


def _transitions(before: pd.DataFrame, after: pd.DataFrame, col: str,
                 order: Sequence[str] | None, normalise: bool, pos: np.ndarray,
                 memo: dict | None = None) -> pd.DataFrame:
    """:func:`transition_matrix` from an alignment: counts by ``np.bincount`` over codes.

    ``memo`` keeps each column's codes for the other tables built from the same frames.
    """
    codes_b, uniq_b = _codes_of(memo, "before", before, col)
    codes_a, uniq_a = _codes_of(memo, "after", after, col)
    cats = _category_order(uniq_b + uniq_a, order)
    n_cat = len(cats)
    # a missing group counts as "new" before and "not listed" after, as a missing customer
    b = _recode(codes_b, uniq_b, cats)
    a = _recode(codes_a, uniq_a, cats)
    matched = pos >= 0
    row_b = np.where(b >= 0, b + 1, 0)  # row 0 is NEW_CUSTOMER
    a_of_b = np.where(matched, a[np.where(matched, pos, 0)], -1)
    col_b = np.where(a_of_b >= 0, a_of_b, n_cat)  # column n_cat is NOT_LISTED
    seen = np.zeros(len(after), dtype=bool)
    seen[pos[matched]] = True
    only_after = ~seen
    row_a = np.zeros(int(only_after.sum()), dtype=np.int64)
    col_a = np.where(a[only_after] >= 0, a[only_after], n_cat)
    width = n_cat + 1
    flat = np.concatenate([row_b * width + col_b, row_a * width + col_a])
    grid = np.bincount(flat, minlength=(n_cat + 1) * width).reshape(n_cat + 1, width)
    if not grid[:, n_cat].any():
        grid = grid[:, :n_cat]
    cols = [*cats] + ([NOT_LISTED] if grid.shape[1] > n_cat else [])
    counts = pd.DataFrame(
        grid.astype(np.int64),
        index=pd.Index([NEW_CUSTOMER, *cats], name=f"{col}_before"),
        columns=pd.Index(cols, name=f"{col}_after"),
    )
    if normalise:
        tot = counts.sum(axis=1).replace(0, np.nan)
        return counts.div(tot, axis=0)
    return counts


def transition_summary(counts: pd.DataFrame) -> pd.DataFrame:
    """Per earlier group: how many stayed, and where most of the others went.

    Parameters
    ----------
    counts : DataFrame
        A :func:`transition_matrix` of counts.

    Returns
    -------
    DataFrame
        ``group``, ``customers``, ``stayed`` (share on the diagonal; NaN for
        :data:`NEW_CUSTOMER`), ``main_move`` (the most common *other* destination, or the
        most common destination of new customers) and ``main_move_share``; groups without
        customers are left out.

    Raises
    ------
    InputError
        When ``counts`` is not a matrix of counts.
    """
    if not isinstance(counts, pd.DataFrame):
        raise InputError(f"transitions: expected a DataFrame, got {type(counts).__name__}")
    rows = []
    for group, row in counts.iterrows():
        n = int(row.sum())
        if n == 0:
            continue
        stayed = row.get(group, 0) / n if group != NEW_CUSTOMER else np.nan
        others = row.drop(labels=[group], errors="ignore")
        move = others.idxmax() if others.sum() > 0 else None
        rows.append({"group": str(group), "customers": n, "stayed": float(stayed),
                     "main_move": move, "main_move_share": others.max() / n if move else 0.0})
    return pd.DataFrame(rows, columns=["group", "customers", "stayed", "main_move",
                                       "main_move_share"])


def align_transitions(matrix: pd.DataFrame, new_row: str = NEW_CUSTOMER) -> pd.DataFrame:
    """Reorder a transition matrix so that cell (i, i) is "stayed in group i".

    :func:`transition_matrix` puts the row of customers who were not
    customers yet first, which shifts every later row by one against the columns: drawn as
    it is, the visual diagonal is not the "stayed" diagonal. This puts the groups present
    both as a row and as a column first, in the columns' order, then every other row
    (``new_row`` last); the columns keep their order.

    Parameters
    ----------
    matrix : DataFrame
        Counts or shares, rows = group before, columns = group after.
    new_row : str
        Label of the row of newcomers (:data:`NEW_CUSTOMER`).

    Returns
    -------
    DataFrame
        The same cells, rows reordered.

    Raises
    ------
    InputError
        When ``matrix`` is not a DataFrame.
    """
    if not isinstance(matrix, pd.DataFrame):
        raise InputError(f"transitions: expected a DataFrame, got {type(matrix).__name__}")
    both = [c for c in matrix.columns if c in matrix.index]
    rest = [r for r in matrix.index if r not in both and r != new_row]
    tail = [new_row] if new_row in matrix.index else []
    return matrix.loc[both + rest + tail]


def moved_down(before: pd.DataFrame, after: pd.DataFrame, col: str = "value_tier",
               order: Sequence[str] = tuple(TIER_ORDER)) -> pd.DataFrame:
    """List customers who moved to a lower group between two snapshots (retention list).

    Parameters
    ----------
    before, after : DataFrame
        Columns ``customer_id``, ``col`` and ``total_spend``; ``after`` may also carry
        ``days_since_last``, ``rfm_segment``, ``lifecycle_stage``, which are kept.
    col : str
        The ordered grouping, best first.
    order : sequence of str
        Its categories from best to worst.

    Returns
    -------
    DataFrame
        ``customer_id``, ``<col>_before``, ``<col>_after``, ``total_spend_before``,
        ``total_spend_after``, then the kept ``after`` columns; sorted by
        ``total_spend_before`` (largest first), then ``customer_id``.

    Raises
    ------
    InputError
        On a missing column or a category not in ``order``.
    """
    require_columns(before, ["customer_id", col, "total_spend"], "before")
    require_columns(after, ["customer_id", col, "total_spend"], "after")
    return _moved_down(before, after, col, order, _align(before, after))


def _moved_down(before: pd.DataFrame, after: pd.DataFrame, col: str, order: Sequence[str],
                pos: np.ndarray, memo: dict | None = None) -> pd.DataFrame:
    """:func:`moved_down` from an alignment (only the movers' rows are ever copied)."""
    codes_b, uniq_b = _codes_of(memo, "before", before, col)
    codes_a, uniq_a = _codes_of(memo, "after", after, col)
    for name, uniq in (("before", uniq_b), ("after", uniq_a)):
        unknown = sorted(set(uniq) - {str(c) for c in order})
        if unknown:
            raise InputError(f"{name}: {col!r} value {unknown[0]!r} is not one of {list(order)}")
    extra = [c for c in ("days_since_last", "rfm_segment", "lifecycle_stage") if c in after.columns]
    order = [str(c) for c in order]
    if (codes_b < 0).any() or (codes_a < 0).any():  # a missing group: the text path
        rank_b = _codes_in(before[col], order)
        rank_a = _codes_in(after[col], order)
    else:
        rank_b = _recode(codes_b, uniq_b, order)
        rank_a = _recode(codes_a, uniq_a, order)
    matched = np.flatnonzero(pos >= 0)
    down = matched[rank_a[pos[matched]] > rank_b[matched]]
    b = before[["customer_id", col, "total_spend"]].iloc[down]  # only the columns kept
    a = after[list(dict.fromkeys([col, "total_spend", *extra]))].iloc[pos[down]]
    out = pd.DataFrame(
        {
            "customer_id": b["customer_id"].array,
            f"{col}_before": b[col].array,
            f"{col}_after": a[col].array,
            "total_spend_before": b["total_spend"].array,
            "total_spend_after": a["total_spend"].array,
            **{c: a[c].array for c in extra},
        }
    )
    spend = out["total_spend_before"].to_numpy(np.float64)
    if len(out) > 1 and not np.isnan(spend).any() and _check_unique(_id_array(before), "before"):
        # the rows follow `before`, whose ids increase: among equal spends they are in id
        # order already, so a stable sort on spend alone is the two-key sort below
        return out.take(np.argsort(-spend, kind="stable")).reset_index(drop=True)
    out = out.sort_values(["total_spend_before", "customer_id"], ascending=[False, True],
                          kind="stable")
    return out.reset_index(drop=True)
