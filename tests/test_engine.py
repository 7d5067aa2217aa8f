"""The compute engine: params, customer buckets, and Dask giving exactly the pandas answer.

Also the fast path of crmlab.features at the level of bits: the same floats whatever the
row order or the engine, and lifetimes' numbers exactly.
"""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab.config import params_from_dict
from crmlab.engine import (
    BUCKET_COLUMN,
    bucket_folders,
    customer_bucket,
    engine_session,
    local_cluster_size,
    read_parquet,
    write_customer_buckets,
)
from crmlab.errors import InputError
from crmlab.features import customer_summary, daily_purchases

from conftest import ROOT

OBS, CAL = "2020-03-01", "2020-01-15"

# Three lines of customer a on 1 Jan whose sum depends on the order they are added in
# (0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1 in floating point): the canonical order must win.
TX = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "a", "a", "b", "c", "c", "d", "e", "e"],
        "date": pd.to_datetime(
            ["2020-01-01", "2020-01-01", "2020-01-01", "2020-01-11", "2020-01-31",
             "2019-10-01", "2019-12-01", "2020-02-20", "2020-02-01", "2020-01-02", "2020-02-02"]
        ),
        "amount": [0.3, 0.2, 0.1, 20.0, 30.0, 40.0, 7.0, 3.0, 8.0, 1.5, 2.5],
    }
)


def _cdnow_small() -> pd.DataFrame:
    raw = pd.read_csv(ROOT / "tests" / "data" / "cdnow_small.txt", sep=r"\s+", dtype=str)
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollar_value"].astype(float),
        }
    )


CDNOW_SMALL = _cdnow_small()


# --- engine params ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "engine", [None, "pandas", {"name": "pandas"}, {"name": "pandas", "address": None}],
    ids=["none", "name", "block", "block-null-address"],
)
def test_pandas_engine_needs_no_cluster(engine):
    with engine_session(engine) as eng:
        assert eng.name == "pandas" and not eng.is_dask and eng.client is None
        assert eng.n_workers == 1 and eng.dashboard_link is None


@pytest.mark.parametrize(
    "n_workers, cpus, expected",
    [(None, 8, (8, 1)), (2, 8, (2, 4)), (4, 2, (4, 1)), (None, 2, (2, 1))],
    ids=["one-per-core", "cores-shared", "more-workers-than-cores", "this-machine-size"],
)
def test_local_cluster_is_sized_to_the_machine(n_workers, cpus, expected):
    assert local_cluster_size(n_workers, cpus) == expected


def test_params_give_the_engine_defaults_and_check_timeout():
    p = params_from_dict({"engine": {"name": "dask"}})
    assert p.engine == {"name": "dask", "address": None, "n_workers": None, "timeout": 10.0,
                        "persist": True}
    with pytest.raises(InputError, match="engine.timeout"):
        params_from_dict({"engine": {"name": "dask", "timeout": 0}})


@pytest.mark.parametrize(
    "engine, message",
    [
        ({"name": "spark"}, "engine.name"),
        ({"name": "pandas", "address": "tcp://127.0.0.1:8786"}, "engine.address"),
        ({"name": "dask", "n_workers": 0}, "engine.n_workers"),
        ({"name": "dask", "timeout": -1}, "engine.timeout"),
        ({"name": "dask", "address": "  "}, "engine.address"),
        (["dask"], "engine"),
    ],
    ids=["unknown-name", "address-without-dask", "no-workers", "negative-timeout",
         "blank-address", "not-a-mapping"],
)
def test_bad_engine_settings_name_the_key(engine, message):
    with pytest.raises(InputError, match=message), engine_session(engine):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_an_input_error_naming_engine_address():
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    with pytest.raises(InputError, match=r"engine\.address: cannot reach a Dask scheduler") as err:
        with engine_session({"name": "dask", "address": address, "timeout": 1}):
            pass
    assert address in str(err.value)


# --- customer buckets ------------------------------------------------------------------------


def test_customer_bucket_is_stable_in_range_and_one_per_customer():
    ids = pd.Series(["a", "b", "a", "zz", "42"])
    first = customer_bucket(ids, 4)
    assert ((first >= 0) & (first < 4)).all()
    assert first[0] == first[2]  # same customer, same bucket
    # a later chunk with the customers in another order puts them in the same buckets
    again = customer_bucket(pd.Series(["42", "zz", "a"]), 4)
    assert list(again) == [first[4], first[3], first[0]]
    # ids compare as text: the number 42 and the text "42" are one customer
    assert customer_bucket(pd.Series([42]), 4)[0] == first[4]


@pytest.mark.parametrize(
    "ids, n, message",
    [(["a", None], 4, "customer_id"), (["a"], 0, "n_buckets"), (["a"], 2.5, "n_buckets")],
    ids=["missing-id", "zero-buckets", "fractional-buckets"],
)
def test_customer_bucket_errors(ids, n, message):
    with pytest.raises(InputError, match=message):
        customer_bucket(pd.Series(ids, dtype=object), n)


def test_buckets_hold_each_customer_once_and_chunks_append(tmp_path):
    path = tmp_path / "tx.parquet"
    write_customer_buckets(CDNOW_SMALL.iloc[:2000], path, n_buckets=5, name="chunk0")
    write_customer_buckets(CDNOW_SMALL.iloc[2000:], path, n_buckets=5, name="chunk1")
    folders = bucket_folders(path)
    assert [b for b, _ in folders] == sorted({b for b, _ in folders})
    owner = {}
    for b, folder in folders:
        for cid in pd.read_parquet(folder)["customer_id"].unique():
            assert owner.setdefault(cid, b) == b, f"{cid} in two buckets"
    back = read_parquet(path)  # pandas: the transactions, without the bucket
    assert BUCKET_COLUMN not in back.columns
    key = ["customer_id", "date", "amount"]
    assert_frame_equal(
        back.sort_values(key).reset_index(drop=True),
        CDNOW_SMALL.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )


def test_write_customer_buckets_needs_customer_id(tmp_path):
    with pytest.raises(InputError, match="'customer_id'"):
        write_customer_buckets(TX.drop(columns="customer_id"), tmp_path / "x", n_buckets=2)


@pytest.mark.parametrize("name", ["missing.parquet", "missing_folder"], ids=["file", "folder"])
def test_read_parquet_missing_path(tmp_path, name):
    with pytest.raises(InputError, match="not found"):
        read_parquet(tmp_path / name)


def test_read_parquet_not_parquet(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_text("this is not parquet")
    with pytest.raises(InputError, match="cannot read as Parquet"):
        read_parquet(bad)


# --- the fast path is exact ------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["shuffle0", "shuffle1", "shuffle2"])
def test_row_order_changes_no_bit(seed):
    ref = customer_summary(TX, OBS, CAL)
    shuffled = TX.sample(frac=1, random_state=seed).reset_index(drop=True)
    assert_frame_equal(customer_summary(shuffled, OBS, CAL), ref, check_exact=True)
    # the canonical same-day order is lifetimes': ascending amount, summed as pandas'
    # group-by does (it differs in the last bit from the descending order)
    ascending = pd.Series([0.1, 0.2, 0.3]).groupby([0, 0, 0]).sum().iloc[0]
    assert ascending != pd.Series([0.3, 0.2, 0.1]).groupby([0, 0, 0]).sum().iloc[0]
    assert daily_purchases(shuffled, OBS).loc[0, "amount"] == ascending


@pytest.mark.parametrize(
    "ids", [lambda s: s.astype(object), lambda s: s.astype("category")],
    ids=["object", "categorical"],
)
def test_id_dtype_changes_nothing(ids):
    tx = TX.assign(customer_id=ids(TX["customer_id"]))
    assert_frame_equal(customer_summary(tx, OBS), customer_summary(TX, OBS), check_exact=True)


def test_integer_ids_are_sorted_as_text():
    tx = TX.assign(customer_id=TX["customer_id"].map({"a": 10, "b": 9, "c": 100, "d": 1, "e": 2}))
    assert list(customer_summary(tx, OBS)["customer_id"]) == ["1", "10", "100", "2", "9"]


@pytest.mark.parametrize(
    "column, value, message",
    [("customer_id", None, "'customer_id' has 1 missing"), ("date", pd.NaT, "'date' has 1 missing"),
     ("amount", "ten", "'amount' is not numeric")],
    ids=["missing-id", "missing-date", "text-amount"],
)
def test_unusable_values_are_input_errors(column, value, message):
    tx = TX.astype({column: object})
    tx.loc[3, column] = value
    with pytest.raises(InputError, match=message):
        customer_summary(tx, OBS)


def test_cdnow_equals_lifetimes_to_the_last_bit():
    # every CDNOW row, duplicates included: same-day sums of 3+ lines are exercised
    lifetimes_utils = pytest.importorskip("lifetimes.utils")
    raw = pd.read_csv(ROOT / "data" / "raw" / "cdnow" / "CDNOW_master.txt", sep=r"\s+", dtype=str)
    tx = pd.DataFrame(
        {"customer_id": raw["customer_id"], "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
         "amount": raw["dollar_value"].astype(float)}
    )
    tx = tx.sample(frac=1, random_state=7).reset_index(drop=True)  # order must not matter
    theirs = lifetimes_utils.summary_data_from_transaction_data(
        tx, "customer_id", "date", monetary_value_col="amount",
        observation_period_end="1998-06-30", freq="D",
    ).reset_index()
    cols = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    ours = customer_summary(tx, "1998-06-30")[cols].astype({"frequency": float})
    theirs = theirs.sort_values("customer_id").reset_index(drop=True)[cols]
    assert_frame_equal(ours, theirs.astype({"customer_id": ours["customer_id"].dtype}),
                       check_exact=True)


# --- Dask gives exactly the pandas answer ----------------------------------------------------


@pytest.fixture(scope="module")
def dask_engine():
    pytest.importorskip("distributed")
    with engine_session({"name": "dask", "n_workers": 1}) as eng:
        yield eng


def _as_dask(how, tx, tmp_path, eng):
    import dask.dataframe as dd

    if how == "partitions":  # customers split across partitions: needs the shuffle
        return dd.from_pandas(tx, npartitions=3, sort=False)
    if how == "indexed":  # sorted customer_id index: partitions are customer-disjoint
        return dd.from_pandas(tx.set_index("customer_id").sort_index(), npartitions=3)
    write_customer_buckets(tx, tmp_path / "tx.parquet", n_buckets=4)
    return read_parquet(tmp_path / "tx.parquet", eng)


@pytest.mark.parametrize("how", ["partitions", "indexed", "buckets"])
@pytest.mark.parametrize("frame", ["hand", "cdnow"], ids=["hand-built", "cdnow-small"])
@pytest.mark.parametrize("cal", [None, CAL], ids=["no-cal", "cal"])
def test_dask_summary_is_bit_identical_to_pandas(dask_engine, tmp_path, how, frame, cal):
    tx = TX if frame == "hand" else CDNOW_SMALL
    obs = OBS if frame == "hand" else "1998-06-30"
    cal = cal if frame == "hand" or cal is None else "1997-09-30"
    ddf = _as_dask(how, tx, tmp_path, dask_engine)
    assert_frame_equal(customer_summary(ddf, obs, cal), customer_summary(tx, obs, cal),
                       check_exact=True)


def test_dask_daily_purchases_equal_pandas(dask_engine, tmp_path):
    ddf = _as_dask("buckets", CDNOW_SMALL, tmp_path, dask_engine)
    assert ddf.npartitions == 4 and ddf.known_divisions and ddf.index.name == BUCKET_COLUMN
    daily = daily_purchases(ddf, "1998-06-30")
    assert hasattr(daily, "dask")  # stays on the workers: as many rows as the transactions
    got = daily.compute().sort_values(["customer_id", "day"], ignore_index=True)
    assert_frame_equal(got, daily_purchases(CDNOW_SMALL, "1998-06-30"), check_exact=True)
    # aggregated per customer on the workers, it is the pandas answer
    days = daily.groupby("customer_id")["lines"].count().compute().sort_index()
    expected = daily_purchases(CDNOW_SMALL, "1998-06-30").groupby("customer_id")["lines"].count()
    assert days.to_dict() == expected.to_dict()


def test_dask_frame_missing_column_is_an_input_error(dask_engine):
    import dask.dataframe as dd

    with pytest.raises(InputError, match="'amount'"):
        customer_summary(dd.from_pandas(TX.drop(columns="amount"), npartitions=2), OBS)


def test_dask_session_describes_itself(dask_engine):
    assert dask_engine.is_dask and dask_engine.n_workers == 1
    assert "dask: local cluster" in str(dask_engine)
    assert dask_engine.dashboard_link.startswith("http")
    # the local cluster's workers are threads of this process (no Nanny processes)
    assert {type(w).__name__ for w in dask_engine.cluster.workers.values()} == {"Worker"}


# --- scale: input checks read no rows; Dask-only reader options stay with Dask -----------------


@pytest.mark.parametrize("layout", ["file", "dataset"], ids=["file", "bucketed-dataset"])
def test_read_header_of_parquet_reads_the_schema_only(tmp_path, monkeypatch, layout):
    from crmlab import io

    tx = pd.DataFrame({"customer_id": ["a", "b", "c"], "date": ["20200101"] * 3,
                       "dollar_value": ["1.0", "2.0", "3.0"]})
    if layout == "file":
        path = tmp_path / "tx.parquet"
        tx.to_parquet(path)
        expected = ["customer_id", "date", "dollar_value"]
    else:
        path = tmp_path / "tx"
        write_customer_buckets(tx, path, n_buckets=2)
        expected = ["customer_id", "date", "dollar_value", "customer_bucket"]

    def no_rows(*args, **kwargs):
        raise AssertionError("read_header read the rows of a Parquet input")

    monkeypatch.setattr(pd, "read_parquet", no_rows)
    assert io.read_header(path) == expected


def test_read_header_of_a_broken_parquet_file_is_an_input_error(tmp_path):
    from crmlab import io

    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match="broken.parquet: cannot read as parquet"):
        io.read_header(bad)


def test_dask_only_reader_options_never_reach_pandas(tmp_path):
    from crmlab import io

    path = tmp_path / "tx.csv"
    path.write_text("customer_id,date,amount\na,20200101,1.0\nb,20200102,2.0\n")
    section = {"path": str(path), "encoding": "auto", "sep": None, "sheet_name": None,
               "reader": {"blocksize": "1MB", "split_row_groups": True, "skiprows": 0}}
    df, _ = io.read_input(section)  # pandas would reject blocksize / split_row_groups
    assert df.shape == (2, 3)
    header = io.read_header(path, **io.readers._reader_kwargs(section))
    assert header == ["customer_id", "date", "amount"]


@pytest.mark.parametrize("seed", [0, 1], ids=["seed0", "seed1"])
def test_monthly_activity_by_integer_codes_equals_groupby(seed):
    from crmlab.cleaning import monthly_activity

    rng = np.random.default_rng(seed)
    n = 5000
    clean = pd.DataFrame({
        "customer_id": pd.array([f"c{i}" for i in rng.integers(0, 300, n)], dtype="str"),
        "date": pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
        "amount": rng.gamma(2, 10, n),
    })
    got = monthly_activity(clean)
    month = clean["date"].dt.to_period("M")
    ref = clean.assign(month=month).groupby("month").agg(
        purchases=("amount", "size"), revenue=("amount", "sum"),
        customers=("customer_id", "nunique"))
    assert got["purchases"].tolist() == ref["purchases"].tolist()
    assert got["customers"].tolist() == ref["customers"].tolist()
    np.testing.assert_allclose(got["revenue"], ref["revenue"], rtol=1e-12)
    assert got["month"].tolist() == ref.index.to_timestamp().tolist()


@pytest.mark.parametrize("log_name", ["run.log", None], ids=["with-run-log", "no-run-log"])
def test_dask_session_announces_its_dashboard(tmp_path, capsys, log_name):
    log = tmp_path / log_name if log_name else None
    if log is not None:
        log.write_text("2026-01-01 00:00:00,000 INFO crmlab: earlier line\n")
    with engine_session({"name": "dask", "n_workers": 1}, log_file=log) as eng:
        link = eng.dashboard_link
    assert link and link.startswith("http")
    assert f"dashboard {link}" in capsys.readouterr().out
    if log is not None:
        lines = log.read_text().splitlines()
        assert lines[0].endswith("earlier line")  # appended, not overwritten
        assert "INFO crmlab.engine: crmlab engine: dask" in lines[1] and link in lines[1]


def test_pandas_session_announces_nothing(tmp_path, capsys):
    log = tmp_path / "run.log"
    with engine_session("pandas", log_file=log):
        pass
    assert not log.exists() and "dashboard" not in capsys.readouterr().out


# --- the chain on the cluster: only counts and per-customer tables reach the client -----------


def _sizes(obj) -> list[int]:
    """Rows of every frame, series or array in a computed result (nested containers too)."""
    if isinstance(obj, (pd.DataFrame, pd.Series, np.ndarray)):
        return [len(obj)]
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        return [n for item in obj for n in _sizes(item)]
    return [1]


@pytest.fixture
def gathered(monkeypatch):
    """Record the size of everything the Dask client fetches from the cluster."""
    from distributed import Client

    sizes: list[int] = []
    original = Client._gather

    async def recording(self, futures, *args, **kwargs):
        out = await original(self, futures, *args, **kwargs)
        sizes.extend(_sizes(out))
        return out

    monkeypatch.setattr(Client, "_gather", recording)
    return sizes


def _messy_export(path, n_customers: int = 60, per_customer: int = 80):
    """A text export: many rows per customer, bad rows and exact duplicates among them."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n_customers * per_customer):
        day = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 300)))
        rows.append((f"c{i % n_customers:03d}", f"{day:%Y-%m-%d}", f"{rng.integers(1, 500) / 4:.2f}"))
    rows[5] = ("", "2020-02-02", "3.00")  # missing customer id
    rows[17] = ("c017", "not a date", "3.00")
    rows[40] = ("c040", "2020-03-03", "-5")
    rows += [rows[i] for i in range(100, 160)]  # exact duplicates, later in the file
    text = "customer_id,date,amount\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows)
    path.write_text(text, encoding="utf-8")
    return len(rows)


def test_no_stage_brings_the_rows_to_the_client(dask_engine, gathered, tmp_path):
    from crmlab import cleaning
    from crmlab.io import read_input, read_input_dask
    from crmlab.segmentation import observation_date

    n_rows = _messy_export(tmp_path / "export.csv")
    params = params_from_dict({
        "transactions": {"path": str(tmp_path / "export.csv"),
                         "columns": {"customer_id": "customer_id", "date": "date", "amount": "amount"}},
        "periods": {"observation_end": "2020-12-31"},
    })
    tx, end = params.transactions, params.periods.observation_end
    sample_rows = 50
    ddf, _ = read_input_dask(tx, blocksize=4_000)
    assert ddf.npartitions >= 4
    report = cleaning.clean_transactions_dask(ddf, tx, tmp_path / "t.parquet", tmp_path / "q.parquet",
                                              end, sample_rows=sample_rows, n_buckets=8)
    clean = read_parquet(tmp_path / "t.parquet", dask_engine)
    assert clean.npartitions == len(bucket_folders(tmp_path / "t.parquet")) > 1
    as_of, _ = observation_date(clean, params.periods)
    summary = customer_summary(clean, as_of)
    holdout = customer_summary(clean, as_of, "2020-08-01")
    monthly = cleaning.monthly_activity(clean)
    values = cleaning.order_value_summary(clean["amount"])
    days = daily_purchases(clean).groupby("customer_id")["lines"].count().compute()

    customers = report["customers"]
    assert n_rows > 4 * 1000 > 10 * customers  # the test can tell rows from samples and customers
    assert gathered, "the recording saw the computations"
    # bigger than the customer count: only the fixed 1,000-row head the privacy screen
    # reads (crmlab.io.read_input_dask; from the first partitions, more of them until the
    # 1,000 rows are there), whatever the size of the file
    big = [n for n in gathered if n > customers]
    assert big and max(big) == 1000 and len(big) <= 4
    assert sum(1 for n in gathered if n == sample_rows) == 1  # cleaning's leading sample

    # and the products are the pandas products
    expected = cleaning.clean_transactions(read_input(tx)[0], tx, end)
    order = ["customer_id", "date", "amount"]
    got = read_parquet(tmp_path / "t.parquet").sort_values(order, ignore_index=True)
    assert_frame_equal(got, expected.clean.sort_values(order, ignore_index=True))
    quarantine = read_parquet(tmp_path / "q.parquet").sort_values("source_row", ignore_index=True)
    assert_frame_equal(quarantine, expected.quarantine)
    assert report["by_reason"] == expected.report["by_reason"]
    assert report["by_reason"]["duplicate"] >= 60  # the copies (random lines may repeat too)
    assert report["by_reason"]["missing_customer_id"] == report["by_reason"]["invalid_date"] == 1
    assert_frame_equal(summary, customer_summary(expected.clean, as_of), check_exact=True)
    assert_frame_equal(holdout, customer_summary(expected.clean, as_of, "2020-08-01"), check_exact=True)
    pandas_monthly = cleaning.monthly_activity(expected.clean)
    assert_frame_equal(monthly.drop(columns="revenue"), pandas_monthly.drop(columns="revenue"))
    np.testing.assert_allclose(monthly["revenue"], pandas_monthly["revenue"], rtol=1e-12)
    pandas_values = cleaning.order_value_summary(expected.clean["amount"])
    np.testing.assert_array_equal(values["counts"], pandas_values["counts"])
    assert len(days) == customers


def test_the_recording_sees_rows_brought_to_the_client(dask_engine, gathered):
    # the check above can fail: computing the transactions themselves is seen
    import dask.dataframe as dd

    dd.from_pandas(CDNOW_SMALL, npartitions=3).compute()
    assert sum(gathered) == len(CDNOW_SMALL)


# --- value, churn and report on the cluster: per-customer tables only, the pandas answer -------


@pytest.fixture
def cdnow_buckets(tmp_path):
    write_customer_buckets(CDNOW_SMALL, tmp_path / "tx.parquet", n_buckets=8)
    return tmp_path / "tx.parquet"


def test_value_churn_report_keep_the_rows_on_the_cluster(dask_engine, gathered, cdnow_buckets):
    from crmlab import churn, report, value

    p = params_from_dict({"value": {"n_origins": 2, "n_validation": 1, "backtest_origins": 1}})
    v, cal, obs = p.value, pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")
    tx = read_parquet(cdnow_buckets)  # pandas: what the stages compute today
    ddf = read_parquet(cdnow_buckets, dask_engine, columns=["customer_id", "date", "amount"])
    assert ddf.npartitions == 8
    customers = CDNOW_SMALL["customer_id"].nunique()
    assert len(CDNOW_SMALL) > 3 * customers  # the test can tell rows from customers

    def both(func, *args, **kwargs):
        return func(ddf, *args, **kwargs), func(tx, *args, **kwargs)

    # value: the time split, the forecast, the holdout, tracking, CLV and tiers
    got, expected = both(value.split_summary, cal, obs)
    assert got == expected
    res_d, res_p = both(value.predict_holdout, cal, obs, v, {})
    assert_frame_equal(res_d.predictions, res_p.predictions, check_exact=True)
    got, expected = both(value.holdout_actuals, cal, obs)
    assert_frame_equal(got, expected, check_exact=True)
    got, expected = (value.tracking_display(t, r, cal, obs).table
                     for t, r in ((ddf, res_d), (tx, res_p)))
    assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    origins = value.backtest_origins(CDNOW_SMALL["date"].min(), obs, 1, 2, 150)
    (bt_d, _), (bt_p, _) = both(value.backtest, obs, origins, v, {})
    assert_frame_equal(bt_d, bt_p, check_exact=True)
    (clv_d, _), (clv_p, _) = both(value.clv_forecast, obs, res_p.chosen, v, {}, res_p.glm_weight)
    assert_frame_equal(clv_d, clv_p, check_exact=True)
    got, expected = both(value.value_tiers_now, clv_p, obs, p.segmentation.tiers)
    assert_frame_equal(got, expected, check_exact=True)

    # churn: the warning's inputs at one date and its backtest
    got, expected = both(churn.warning_inputs, obs, 273)
    assert_frame_equal(got, expected, check_exact=True)
    warning = churn.transactional_warning(expected, p.churn_warning)
    got, expected = both(churn.backtest_warning, cal, obs, 273, p.churn_warning)
    assert got == expected

    # report: the transaction KPIs and the input profile, as aggregates
    got, expected = both(report.customer_kpis, obs, p.report)
    assert got == pytest.approx(expected, rel=1e-12)
    got, expected = both(lambda t: report.input_profile({}, None, t))
    assert got == expected

    assert gathered, "the recording saw the computations"
    assert max(gathered) <= customers, "a result as long as the rows reached the client"
    assert len(warning) == customers


def test_value_on_dask_gives_its_input_errors(dask_engine, cdnow_buckets):
    from crmlab import value

    ddf = read_parquet(cdnow_buckets, dask_engine)
    with pytest.raises(InputError, match="no purchase on or before 1990-01-01"):
        value.features_at(ddf, "1990-01-01", 30)
    with pytest.raises(InputError, match="required column 'amount' missing"):
        value.window_spend(ddf[["customer_id", "date"]], "1997-01-01", "1997-02-01", ["1"])


# --- progress: a bar by hand, a line per computation in run.log under papermill ---------------


def test_computations_log_one_line_each_without_a_bar(tmp_path, capsys, cdnow_buckets):
    from crmlab.engine import compute

    log = tmp_path / "run.log"
    with engine_session({"name": "dask", "n_workers": 1}, log_file=log, live_progress=False) as eng:
        ddf = read_parquet(cdnow_buckets, eng)
        customer_summary(ddf, "1998-06-30")
        first, rows = compute(ddf["date"].min(), ddf.shape[0], what="first date and rows")
        assert (first, rows) == (CDNOW_SMALL["date"].min(), len(CDNOW_SMALL))
        assert compute(3, what="nothing lazy") == (3,)
    lines = log.read_text().splitlines()
    assert "dashboard" in lines[0]
    assert [line.split("crmlab.engine: ")[1].split(" in ")[0] for line in lines[1:]] == [
        "computed per-customer table", "computed first date and rows"]
    out = capsys.readouterr().out
    assert "computed" not in out and "%" not in out  # quick computations stay out of the notebook


def test_computations_draw_a_bar_when_live(capsys, cdnow_buckets):
    with engine_session({"name": "dask", "n_workers": 1}, live_progress=True) as eng:
        customer_summary(read_parquet(cdnow_buckets, eng), "1998-06-30")
    assert "100%" in capsys.readouterr().out


# --- engine.address: an existing cluster is used, and left running ---------------------------


def test_engine_address_connects_to_an_existing_cluster(cdnow_buckets):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        p = params_from_dict({"engine": {"name": "dask", "address": cluster.scheduler_address}})
        with engine_session(p.engine) as eng:
            assert eng.is_dask and eng.cluster is None  # nothing started by the session
            assert eng.client.scheduler.address == cluster.scheduler_address
            assert "dask: cluster at" in str(eng)
            got = customer_summary(read_parquet(cdnow_buckets, eng), "1998-06-30")
            # the work ran on that cluster's worker
            worker = next(iter(cluster.workers.values()))
            assert worker.state.log or worker.data is not None
        assert_frame_equal(got, customer_summary(CDNOW_SMALL, "1998-06-30"), check_exact=True)
        assert cluster.status.name == "running"  # the session closed its client only
        assert len(cluster.scheduler.workers) == 1


# --- reading once, and Dask-only reader options --------------------------------------------------


def test_dask_cleaning_reads_each_partition_once(dask_engine, tmp_path):
    import dask.dataframe as dd

    from crmlab import cleaning

    n_rows = _messy_export(tmp_path / "export.csv", n_customers=20, per_customer=30)
    text = pd.read_csv(tmp_path / "export.csv", dtype=str, keep_default_na=False)
    assert len(text) == n_rows
    bounds = np.linspace(0, n_rows, 7).astype(int)
    reads: list[int] = []

    def read(i):
        reads.append(i)
        return text.iloc[bounds[i]:bounds[i + 1]].reset_index(drop=True)

    raw = dd.from_map(read, list(range(6)), meta=text.iloc[:0], enforce_metadata=False)
    params = params_from_dict({
        "transactions": {"path": str(tmp_path / "export.csv"),
                         "columns": {"customer_id": "customer_id", "date": "date", "amount": "amount"}},
    })
    report = cleaning.clean_transactions_dask(raw, params.transactions, tmp_path / "t.parquet",
                                              tmp_path / "q.parquet", sample_rows=20, n_buckets=4)
    assert report["rows_in"] == n_rows
    # the leading sample may read the first partition; the cleaning reads each one once
    # (a separate row-count pass first would read them all twice)
    assert sorted(set(reads)) == list(range(6))
    assert [reads.count(i) for i in range(1, 6)] == [1] * 5 and reads.count(0) <= 2


def test_parquet_reader_options_for_dask_stay_with_dask(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crmlab import io

    path = tmp_path / "tx.parquet"
    tx = pa.table({"customer_id": [f"c{i}" for i in range(30)], "date": ["20200101"] * 30,
                   "amount": ["1.0"] * 30})
    pq.write_table(tx, path, row_group_size=10)
    section = {"path": str(path), "encoding": "auto", "sep": None, "sheet_name": None,
               "reader": {"split_row_groups": True}}
    df, _ = io.read_input(section)  # pandas.read_parquet would reject split_row_groups
    assert df.shape == (30, 3)
    assert io.read_header(path, **io.readers._reader_kwargs(section)) == ["customer_id", "date", "amount"]
    ddf, _ = io.read_input_dask(section)
    assert ddf.npartitions == 3  # one partition per row group: the option reached Dask


# --- engine.persist: the value stage's many passes read the buckets once ------------------------


def test_keep_in_memory_persists_only_dask_frames_and_only_when_asked(dask_engine, cdnow_buckets):
    from crmlab.engine import keep_in_memory

    assert keep_in_memory(CDNOW_SMALL, {"persist": True}) is CDNOW_SMALL  # pandas: unchanged
    lazy = read_parquet(cdnow_buckets, dask_engine, columns=["customer_id", "date", "amount"])
    assert keep_in_memory(lazy, {"persist": False}) is lazy
    held = keep_in_memory(lazy, params_from_dict({}).engine)  # the schema's default: persist
    from distributed import futures_of

    assert futures_of(held) and all(f.status == "finished" for f in futures_of(held))
    assert not futures_of(lazy)
    assert_frame_equal(customer_summary(held, "1998-06-30"), customer_summary(CDNOW_SMALL, "1998-06-30"),
                       check_exact=True)
