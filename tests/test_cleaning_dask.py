"""The Dask cleaning's shuffle through files, and the local cluster's memory settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab import cleaning
from crmlab.cleaning import buckets
from crmlab.config import load_params
from crmlab.engine import bucket_folders, read_parquet
from crmlab.io import read_input

ROOT = Path(__file__).resolve().parents[1]


def test_bucket_files_give_back_each_buckets_rows_in_order_with_their_types(tmp_path):
    first = pd.DataFrame({
        "__row": np.arange(6, dtype=np.int64),
        "id": pd.Series(list("abcdef"), dtype="str"),
        "date": pd.to_datetime([f"2024-01-0{d}" for d in range(1, 7)]),
        "amount": [1.5, 2.0, np.nan, 4.0, 5.0, 6.0],
        "note": pd.Series([None] * 6, dtype=object),  # all missing here: Arrow's null type
    })
    second = first.assign(__row=first["__row"] + (1 << 32),
                          note=pd.Series(["x", None, "y", "z", None, "w"], dtype=object))
    b1, b2 = np.array([3, 0, 3, 1, 0, 3]), np.array([0, 0, 2, 3, 3, 3])
    assert buckets.write_by_bucket(first, b1, tmp_path, 0) == [0, 1, 3]
    assert buckets.write_by_bucket(second, b2, tmp_path, 1) == [0, 2, 3]
    assert buckets.write_by_bucket(first.iloc[:0], b1[:0], tmp_path, 2) == []  # nothing written
    both = pd.concat([first, second], ignore_index=True)
    where = np.concatenate([b1, b2])
    for b, parts in ((0, [0, 1]), (1, [0]), (2, [1]), (3, [0, 1])):
        got = buckets.read_parts([buckets.bucket_dir(tmp_path, b) / buckets.part_name(i) for i in parts])
        expected = both[where == b].reset_index(drop=True)
        assert_frame_equal(got.drop(columns="note"), expected.drop(columns="note"))  # types too
        # a text column missing in a whole file comes back as text, missing values as such
        assert got["note"].isna().tolist() == expected["note"].isna().tolist()
        assert got["note"].dropna().tolist() == expected["note"].dropna().tolist()
    with pytest.raises(ValueError, match="no files"):
        buckets.read_parts([])


@pytest.fixture
def messy():
    params = load_params(ROOT / "tests/data/messy_params.yaml")
    return params.transactions, params.periods.observation_end


def test_each_task_holds_one_partition_or_one_bucket(messy, tmp_path, monkeypatch):
    # the memory bound by construction: pass 1 sees one input partition, pass 2 reads the
    # files of one customer bucket (or one partition's rejected rows), never more
    dask = pytest.importorskip("dask")
    from crmlab.cleaning import distributed
    from crmlab.io import read_input_dask

    tx, end = messy
    reads: list[list[Path]] = []
    rules_calls: list[tuple[int, int]] = []
    real_read, real_rules = distributed.read_parts, distributed._dask_rules

    def recording_read(files):
        files = [Path(f) for f in files]
        reads.append(files)
        return real_read(files)

    def recording_rules(part, index, **kwargs):
        rules_calls.append((index, len(part)))
        return real_rules(part, index, **kwargs)

    monkeypatch.setattr(distributed, "read_parts", recording_read)
    monkeypatch.setattr(distributed, "_dask_rules", recording_rules)
    with dask.config.set(scheduler="synchronous"):
        ddf, _ = read_input_dask(tx, blocksize=300)
        sizes = ddf.map_partitions(len).compute().tolist()
        report = cleaning.clean_transactions_dask(ddf, tx, tmp_path / "t", tmp_path / "q", end, n_buckets=4)
    # one call per partition, on that partition only (and one on no rows: the columns)
    assert len(sizes) > 2 and min(sizes) > 0
    assert sorted(c for c in rules_calls if c[1]) == list(enumerate(sizes))
    assert reads and all(len({f.parent for f in files}) == 1 for files in reads)
    bucket_reads = [files for files in reads if files[0].parent.name.startswith("bucket-")]
    assert len(bucket_reads) == len(bucket_folders(tmp_path / "t"))  # one read per bucket
    assert all(files == sorted(files) for files in bucket_reads)  # in input order
    # and the products are the pandas products; no work folder is left
    expected = cleaning.clean_transactions(read_input(tx)[0], tx, end)
    order = list(expected.clean.columns)
    assert_frame_equal(read_parquet(tmp_path / "t").sort_values(order, ignore_index=True),
                       expected.clean.sort_values(order, ignore_index=True))
    assert_frame_equal(read_parquet(tmp_path / "q").sort_values("source_row", ignore_index=True),
                       expected.quarantine)
    assert report["by_reason"] == expected.report["by_reason"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q", "t"]


def test_a_failed_cleaning_keeps_the_earlier_products_and_leaves_no_temporary(messy, tmp_path, monkeypatch):
    dask = pytest.importorskip("dask")
    from crmlab.cleaning import distributed
    from crmlab.io import read_input_dask

    tx, end = messy
    (tmp_path / "t").write_bytes(b"an earlier run's file")

    def broken(*args, **kwargs):
        raise RuntimeError("a worker failed")

    monkeypatch.setattr(distributed, "_dask_dedupe", broken)
    with dask.config.set(scheduler="synchronous"):
        ddf, _ = read_input_dask(tx, blocksize=300)
        with pytest.raises(RuntimeError, match="a worker failed"):
            cleaning.clean_transactions_dask(ddf, tx, tmp_path / "t", tmp_path / "q", end, n_buckets=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]
    assert (tmp_path / "t").read_bytes() == b"an earlier run's file"


# --- the local cluster's memory settings -------------------------------------------------------


def test_workers_in_this_process_spill_before_the_machine_is_full():
    from crmlab.dask_memory import (
        PAUSE_FRACTION,
        SPILL_FRACTION,
        local_memory_options,
        machine_memory,
    )

    kwargs, config = local_memory_options({"n_workers": 2, "processes": False}, {})
    assert kwargs == {"memory_limit": machine_memory()}
    assert config == {"distributed.worker.memory.target": 0.25,
                      "distributed.worker.memory.spill": SPILL_FRACTION,
                      "distributed.worker.memory.pause": PAUSE_FRACTION,
                      "distributed.worker.memory.terminate": False}
    assert SPILL_FRACTION < PAUSE_FRACTION < 1
    # a limit the caller gives is kept; worker processes keep Dask's own settings
    kwargs, _ = local_memory_options({"n_workers": 1, "processes": False, "memory_limit": "4GB"},
                                     {"memory_limit": "4GB"})
    assert kwargs == {}
    assert local_memory_options({"n_workers": 2, "processes": True}, {"processes": True}) == ({}, {})


def test_the_session_sets_the_fractions_for_its_workers_only():
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    from crmlab.dask_memory import PAUSE_FRACTION, SPILL_FRACTION, machine_memory
    from crmlab.engine import engine_session

    keys = ("target", "spill", "pause", "terminate")
    before = {k: dask.config.get(f"distributed.worker.memory.{k}") for k in keys}
    with engine_session({"name": "dask", "n_workers": 2}) as eng:
        managers = [w.memory_manager for w in eng.cluster.workers.values()]
        assert len(managers) == 2
        for mm in managers:
            assert mm.memory_limit == machine_memory()
            assert mm.memory_target_fraction == pytest.approx(0.25)
            assert (mm.memory_spill_fraction, mm.memory_pause_fraction) == (SPILL_FRACTION, PAUSE_FRACTION)
        assert {k: dask.config.get(f"distributed.worker.memory.{k}") for k in keys} == before
    assert {k: dask.config.get(f"distributed.worker.memory.{k}") for k in keys} == before


# --- reading: partitions that follow the rows, a sample from the leading partitions -------------


@pytest.mark.parametrize("n", [1, 7, 10, 25, 59, 60, 500], ids=lambda n: f"{n}-rows")
def test_the_sample_is_the_leading_rows(n):
    dd = pytest.importorskip("dask.dataframe")
    from crmlab.io.readers import leading_rows as _leading_rows

    frame = pd.DataFrame({"a": [str(i) for i in range(60)]})
    ddf = dd.from_pandas(frame, npartitions=6, sort=False)  # 10 rows a partition
    assert_frame_equal(_leading_rows(ddf, n), ddf.head(n, npartitions=-1))
    assert _leading_rows(ddf, n)["a"].tolist() == frame["a"].head(n).tolist()


def test_a_parquet_input_has_one_partition_per_row_group(tmp_path):
    pytest.importorskip("dask.dataframe")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crmlab.io import read_input_dask

    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(1000)], "date": ["20240101"] * 1000,
                          "amount": ["1.5"] * 1000})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "t.parquet",
                   row_group_size=100)
    section = {"path": str(tmp_path / "t.parquet"), "reader": {}, "pii_columns": [], "columns": {}}
    ddf, _ = read_input_dask(section)
    assert ddf.npartitions == 10
    assert_frame_equal(ddf.compute().reset_index(drop=True), frame, check_dtype=False)
    ddf, _ = read_input_dask({**section, "reader": {"split_row_groups": False}})  # the reader's choice
    assert ddf.npartitions == 1
