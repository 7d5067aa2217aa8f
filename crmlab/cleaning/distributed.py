"""The Dask cleaning path: the workers apply the rules, find duplicates and write the products.

Only counts and aggregates come back to the client; see :func:`clean_transactions_dask`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlab.cleaning.buckets import bucket_dir, part_name, read_parts, write_by_bucket, write_frame
from crmlab.cleaning.clean import quarantine_frame
from crmlab.cleaning.duplicates import find_duplicates
from crmlab.cleaning.report import build_report, money_set_aside
from crmlab.cleaning.rules import (
    CANONICAL,
    REASONS,
    check_mapping,
    date_guess,
    detect_pii_columns,
    row_rules,
    setting,
)
from crmlab.errors import InputError
from crmlab.io.readers import leading_rows

__all__ = ["clean_transactions_dask"]


# ``__row`` orders rows as the input does without knowing the earlier partitions' sizes:
# the partition's number in the high bits, the row within it in the low ones
_LOCAL_BITS = 32


def _dask_rules(part: pd.DataFrame, index: int, columns: Mapping[str, Any], section: Mapping[str, Any],
                observation_end: Any, guess: str | None,
                n_buckets: int) -> tuple[pd.DataFrame, pd.DataFrame, dict, int]:
    """Row rules on one partition: the rows that passed, the rows rejected, repairs, row count.

    Both frames have the tagged columns: ``__row`` (``index << 32`` plus the 0-based row in
    the partition: sorts as the input's rows, see :func:`_source_rows`), ``__reason``,
    ``__bucket`` (customer bucket of a row that passed; -1 otherwise), the canonical values
    as ``__c:<name>`` and the original columns as text as ``__o:<name>`` (what the
    quarantine keeps, and what the duplicate key compares). The rows are split here, so
    the raw partition is freed as soon as its rules have run.
    """
    from crmlab.engine import customer_bucket

    part = part.reset_index(drop=True)
    canon, reason, repairs = row_rules(part, columns, section, observation_end, guess)
    ok = reason.isna().to_numpy()
    bucket = np.full(len(part), -1, dtype=np.int64)
    if ok.any():
        bucket[ok] = customer_bucket(canon["customer_id"][ok], n_buckets)
    out = {"__row": (np.int64(index) << _LOCAL_BITS) + np.arange(len(part), dtype=np.int64),
           "__reason": reason.astype(object), "__bucket": bucket}
    out.update({f"__c:{c}": canon[c] for c in canon.columns})
    out.update({f"__o:{c}": part[c].astype("str") for c in part.columns})
    tagged = pd.DataFrame(out)
    return (tagged[ok].reset_index(drop=True), tagged[~ok].reset_index(drop=True), repairs,
            len(part))


def _partition_starts(sizes: list[int]) -> np.ndarray:
    """Return how many input rows come before each partition."""
    return np.concatenate(([0], np.cumsum(np.asarray(sizes, dtype=np.int64))[:-1]))


def _source_rows(row: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Return the 1-based input row of each ``__row`` (see :func:`_dask_rules`)."""
    row = np.asarray(row, dtype=np.int64)
    return np.asarray(starts, dtype=np.int64)[row >> _LOCAL_BITS] + (row & ((1 << _LOCAL_BITS) - 1)) + 1


def _dask_dedupe(part: pd.DataFrame, canon_cols: list[str], others: list[str], quarantine_dups: bool) -> pd.DataFrame:
    """Duplicates inside one customer bucket: the first row by global row number is kept."""
    part = part.sort_values("__row", kind="stable").reset_index(drop=True)
    dup = find_duplicates(part[[f"__c:{c}" for c in canon_cols]], part[[f"__o:{c}" for c in others]]).to_numpy()
    part["__dup"] = dup
    if quarantine_dups:
        part["__reason"] = part["__reason"].astype(object).mask(dup, "duplicate")
    return part


def _dask_quarantine(part: pd.DataFrame, orig_cols: list[str], starts: np.ndarray) -> pd.DataFrame:
    """Select the quarantine rows of a tagged partition, shaped as the pandas path shapes them.

    ``starts`` (:func:`_partition_starts`) turns each row's ``__row`` into its input row.
    """
    part = part[part["__reason"].notna()]
    orig = pd.DataFrame({c: part[f"__o:{c}"] for c in orig_cols}, index=part.index)
    return quarantine_frame(orig, _source_rows(part["__row"].to_numpy(), starts), part["__reason"])


def _dask_clean(part: pd.DataFrame, canon_cols: list[str]) -> pd.DataFrame:
    """Select the clean rows of a deduplicated partition: canonical columns and the bucket."""
    from crmlab.engine import BUCKET_COLUMN

    part = part[part["__reason"].isna()]
    clean = pd.DataFrame({c: part[f"__c:{c}"] for c in canon_cols}).reset_index(drop=True)
    clean["customer_id"] = clean["customer_id"].astype("str")
    if "order_id" in clean.columns:  # the shuffle may hand text back with pd.NA for missing
        clean["order_id"] = clean["order_id"].astype("str")
    clean[BUCKET_COLUMN] = part["__bucket"].to_numpy()
    return clean


def _dask_stats(part: pd.DataFrame, section: Mapping[str, Any], stage: str) -> pd.DataFrame:
    """One row of aggregates of a tagged partition (counts, money, dates, customers).

    ``stage`` "rules" counts what the row rules rejected (the rows that go on to the
    shuffle are counted after it, as "dedupe"), so every row is counted once.
    """
    reason = part["__reason"]
    bad = reason.notna().to_numpy()
    amount = part["__c:amount"]
    counts = {f"reason:{code}": int((reason == code).sum()) for code in REASONS}
    row = {"rows": len(part), "quarantined": int(bad.sum()),
           "amount_quarantined": money_set_aside(amount[bad], section), **counts}
    if stage == "dedupe":
        ok = ~bad
        dates = part.loc[ok, "__c:date"]
        row.update({
            "duplicates_seen": int(part["__dup"].sum()),
            "clean": int(ok.sum()),
            "amount_clean": float(amount[ok].sum()),
            # customers live in one bucket, so per-partition distinct counts add up
            "customers": int(part.loc[ok, "__c:customer_id"].nunique()),
            "date_min": dates.min() if len(dates) else pd.NaT,
            "date_max": dates.max() if len(dates) else pd.NaT,
        })
    return pd.DataFrame([row])


def _pass_rules(part: pd.DataFrame, work: str, rules: Any, section: Mapping[str, Any],
                partition_info: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Pass 1 on one input partition: the rules, then the rows written to the work folder.

    The rows that passed go to one file per customer bucket (without ``__reason`` and
    ``__bucket``, which the bucket's task knows), the rejected rows to
    ``work/rejected/part-<index>.parquet``. Returns one row: the rules' aggregates
    (:func:`_dask_stats`) with the partition's number, row count (``size``), repairs, the
    buckets written and whether rejected rows were written — nothing as long as the rows.
    """
    index = int(partition_info["number"]) if partition_info else 0
    passed, rejected, repairs, n = rules(part, index)
    del part
    row = _dask_stats(rejected, section, "rules")
    written = write_by_bucket(passed.drop(columns=["__reason", "__bucket"]), passed["__bucket"].to_numpy(),
                              work, index)
    del passed
    if len(rejected):
        keep = ["__row", "__reason", *(c for c in rejected.columns if c.startswith("__o:"))]
        write_frame(rejected[keep], Path(work) / "rejected" / part_name(index))
    row.insert(0, "partition", index)
    row["size"] = n
    row["repairs"] = pd.Series([repairs], dtype=object)
    row["buckets"] = pd.Series([written], dtype=object)
    row["rejected_file"] = bool(len(rejected))
    return row


def _pass_bucket(bucket: int, parts: list[int], work: str, clean_dir: str, quarantine_dir: str,
                 starts: np.ndarray, canon_cols: list[str], keep_cols: list[str], others: list[str],
                 quarantine_dups: bool, section: Mapping[str, Any]) -> pd.DataFrame:
    """Pass 2 on one customer bucket: read its rows, find duplicates, write the products.

    Writes ``clean_dir/customer_bucket=<bucket>/part.0.parquet`` and, when the bucket has
    quarantined duplicates, ``quarantine_dir/part.dup-<bucket>.parquet``; returns the
    bucket's row of aggregates (:func:`_dask_stats`, stage "dedupe").
    """
    from crmlab.engine import BUCKET_COLUMN

    folder = bucket_dir(work, bucket)
    part = read_parts([folder / part_name(i) for i in parts])
    part["__reason"] = pd.Series([None] * len(part), dtype=object)
    part["__bucket"] = np.full(len(part), bucket, dtype=np.int64)
    part = _dask_dedupe(part, canon_cols, others, quarantine_dups)
    clean = _dask_clean(part, canon_cols).drop(columns=BUCKET_COLUMN)
    if len(clean):
        write_frame(clean, Path(clean_dir) / f"{BUCKET_COLUMN}={bucket}" / "part.0.parquet")
    del clean
    quarantine = _dask_quarantine(part, keep_cols, starts)
    if len(quarantine):
        write_frame(quarantine, Path(quarantine_dir) / f"part.dup-{bucket:05d}.parquet")
    del quarantine
    shutil.rmtree(folder, ignore_errors=True)  # the disk is freed as the buckets are done
    return _dask_stats(part, section, "dedupe")


def _pass_rejected(index: int, work: str, quarantine_dir: str, keep_cols: list[str], starts: np.ndarray) -> int:
    """Pass 2 on one partition's rejected rows: shape them as the quarantine and write them."""
    src = Path(work) / "rejected" / part_name(index)
    quarantine = _dask_quarantine(read_parts([src]), keep_cols, starts)
    write_frame(quarantine, Path(quarantine_dir) / f"part.rej-{index:06d}.parquet")
    src.unlink()
    return len(quarantine)


def clean_transactions_dask(
    raw,
    section: Mapping[str, Any],
    clean_path: str | Path,
    quarantine_path: str | Path,
    observation_end: str | pd.Timestamp | None = None,
    source: str = "transactions",
    sample_rows: int = 10_000,
    n_buckets: int = 64,
) -> dict[str, Any]:
    """:func:`clean_transactions` on a Dask cluster: the workers compute and write the products.

    Nothing bigger than counts and aggregates comes back to the client:

    1. the rows per partition are counted, in the same pass as the rules (the input is
       read once), and give every row its global 1-based row number, ``source_row``;
    2. the row rules (ids, dates, amounts, quantities, the observation window) run on each
       partition; a row that passes gets its customer bucket
       (:func:`crmlab.engine.customer_bucket`, a stable hash of the id);
    3. the rows that passed are shuffled by bucket through files (:mod:`crmlab.cleaning.buckets`):
       each partition's task writes one file per bucket into a work folder next to
       ``clean_path``, then one task per bucket reads that bucket's files. Two duplicate
       rows have the same canonical customer id, so they meet in one bucket, where the one
       with the smallest row number is kept — the row the pandas path keeps. A worker so
       holds one input partition or one bucket at a time, whatever the size of the data;
    4. the bucket's task writes its clean rows into a customer-bucketed Parquet dataset
       (``clean_path/customer_bucket=N/*.parquet``, read by
       :func:`crmlab.engine.read_parquet` one bucket a partition, no shuffle) and its
       quarantined duplicates into the quarantine's folder (``quarantine_path/*.parquet``),
       as do tasks for the rejected rows once every partition's row count is known;
    5. the report is summed from one row of aggregates per partition and per bucket.

    The products hold exactly the rows and values of the pandas path (the row order
    differs: sort by ``customer_id``, ``date`` or ``source_row`` to compare); the report
    is the same except that the two money totals may differ in the last bits (floating
    point sums taken in a different order). The date format is guessed once from the first
    ``sample_rows`` rows, and personal-data columns are detected on them.

    Parameters
    ----------
    raw : dask.dataframe.DataFrame
        The export, partitions in file order (e.g. :func:`crmlab.io.read_input_dask`).
    section, observation_end, source
        As for :func:`clean_transactions`.
    clean_path, quarantine_path : str or Path
        Folders to write (an existing file or folder there is replaced once the new one
        is complete). The workers write them, and the work folder of the shuffle (as
        much disk as the rows that passed, removed at the end): the paths must be theirs
        too.
    sample_rows : int
        Leading rows used to detect personal-data columns and guess the date format.
    n_buckets : int
        Customer buckets of the clean dataset.

    Returns
    -------
    dict
        The cleaning report, as :func:`clean_transactions` makes it.
    """
    import dask

    if isinstance(n_buckets, bool) or not isinstance(n_buckets, int) or n_buckets < 1:
        raise InputError(f"n_buckets: expected a whole number >= 1, got {n_buckets!r}")
    columns = {k: section["columns"].get(k) for k in CANONICAL}
    pii = list(setting(section, "pii_columns") or [])
    sample = leading_rows(raw, sample_rows)
    check_mapping(sample, columns, pii, source)
    mapped = {c for c in columns.values() if c}
    detected = detect_pii_columns(sample.drop(columns=pii), protected=mapped)
    keep_cols = [c for c in raw.columns if c not in pii and c not in detected]
    others = [c for c in keep_cols if c not in mapped]
    guess = date_guess(sample, columns, section)
    policy = setting(section, "duplicates")

    raw = raw[keep_cols]
    rules = partial(_dask_rules, columns=columns, section=section, observation_end=observation_end,
                    guess=guess, n_buckets=n_buckets)
    meta_tagged = rules(sample.iloc[:0][keep_cols], 0)[0]
    canon_cols = [c[4:] for c in meta_tagged.columns if c.startswith("__c:")]
    meta_dedup = _dask_dedupe(meta_tagged, canon_cols, others, policy == "quarantine")
    no_rows = np.zeros(1, dtype=np.int64)

    from crmlab.engine import BUCKET_COLUMN, compute

    clean_path, quarantine_path = Path(clean_path), Path(quarantine_path)
    tmp_clean = _fresh_folder(clean_path)
    tmp_quarantine = _fresh_folder(quarantine_path)
    work = _fresh_folder(clean_path.with_name(clean_path.name + "-shuffle"))
    try:
        # pass 1: rules per input partition; the rows go to disk, by customer bucket. A
        # frame's map_partitions (not delayed calls) ships the reading as Dask plans it
        meta_first = _pass_rules(sample.iloc[:0][keep_cols], str(work), rules, section).iloc[:0]
        first, = compute(raw.map_partitions(_pass_rules, str(work), rules, section, meta=meta_first,
                                            enforce_metadata=False),
                         what=f"cleaning rules on {raw.npartitions} partitions")
        first = first.sort_values("partition", ignore_index=True)
        sizes = first["size"].tolist()
        starts = _partition_starts(sizes)
        by_bucket: dict[int, list[int]] = {}
        for i, written in zip(first["partition"].tolist(), first["buckets"], strict=True):
            for b in written:
                by_bucket.setdefault(int(b), []).append(int(i))
        # pass 2: duplicates and products per customer bucket; the rejected rows' quarantine
        bucket_task = partial(_pass_bucket, work=str(work), clean_dir=str(tmp_clean),
                              quarantine_dir=str(tmp_quarantine), starts=starts, canon_cols=canon_cols,
                              keep_cols=keep_cols, others=others, quarantine_dups=policy == "quarantine",
                              section=section)
        second = compute(
            *(dask.delayed(bucket_task)(b, by_bucket[b]) for b in sorted(by_bucket)),
            *(dask.delayed(_pass_rejected)(i, str(work), str(tmp_quarantine), keep_cols, starts)
              for i, r in zip(first["partition"].tolist(), first["rejected_file"], strict=True) if r),
            what=f"cleaning duplicates in {len(by_bucket)} customer buckets",
        )
        # no clean (or no quarantined) row at all: an empty file keeps the columns readable
        for tmp, empty in ((tmp_clean, _dask_clean(meta_dedup, canon_cols).drop(columns=BUCKET_COLUMN)),
                           (tmp_quarantine, _dask_quarantine(meta_tagged, keep_cols, no_rows))):
            if not any(tmp.rglob("*.parquet")):
                empty.to_parquet(tmp / "part.0.parquet", index=False, engine="pyarrow")
        _swap_in(tmp_clean, clean_path)
        _swap_in(tmp_quarantine, quarantine_path)
    finally:
        for tmp in (tmp_clean, tmp_quarantine, work):
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    s_rules = first
    s_dedup = pd.concat([s for s in second[:len(by_bucket)]]
                        or [_dask_stats(meta_dedup, section, "dedupe")], ignore_index=True)
    repairs_parts = first["repairs"].tolist()

    repairs: dict[str, int] = {}
    for piece in repairs_parts:
        for k, v in piece.items():
            repairs[k] = repairs.get(k, 0) + int(v)
    both = pd.concat([s_rules, s_dedup], ignore_index=True)
    dmin, dmax = s_dedup["date_min"].dropna(), s_dedup["date_max"].dropna()
    return build_report(
        rows_in=int(np.asarray(sizes).sum()),
        rows_clean=int(s_dedup["clean"].sum()),
        rows_quarantined=int(both["quarantined"].sum()),
        by_reason={code: int(both[f"reason:{code}"].sum()) for code in REASONS},
        repairs=repairs,
        duplicates_seen=int(s_dedup["duplicates_seen"].sum()),
        pii_dropped=pii,
        pii_detected=detected,
        columns=columns,
        amount_clean=s_dedup["amount_clean"].sum(),
        amount_quarantined=both["amount_quarantined"].sum(),
        date_min=dmin.min() if len(dmin) else None,
        date_max=dmax.max() if len(dmax) else None,
        customers=int(s_dedup["customers"].sum()),
        observation_end=observation_end,
        section=section,
    )


def _fresh_folder(target: Path) -> Path:
    """Make an empty temporary folder next to ``target`` (the workers write into it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))


def _swap_in(tmp: Path, target: Path) -> None:
    """Put a finished folder where ``target`` is (a file or a folder of an earlier run)."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; products are read by the team
    os.replace(tmp, target)

