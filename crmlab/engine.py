"""The compute engine: pandas in memory, or Dask on this machine or on a cluster.

Params choose it (``engine:`` in the YAML)::

    engine: {name: pandas}                              # default: everything in memory
    engine: {name: dask}                                # a local cluster sized to this machine
    engine: {name: dask, address: "tcp://host:8786"}    # an existing Dask cluster

A notebook opens a session, reads the transactions through it and hands the frame to
:func:`crmlab.features.customer_summary`, which accepts pandas or Dask and always returns
the same pandas customer table::

    with engine_session(p.engine) as eng:
        tx = read_parquet(ctx.require("transactions.parquet", "cleaning"), eng)
        customers = customer_summary(tx, p.periods.observation_end)

Only the transaction-level work (reading, cleaning rules, transactions -> customers) is
worth distributing: it is where the rows are. What follows runs on one row per customer,
which fits in memory long after the transactions do, so segmentation and the models stay
in pandas / scikit-learn.

Progress: inside a Dask session every computation that gathers a result — a customer
table, a per-customer aggregate, a count — goes through :func:`compute` (or
:func:`crmlab.features.customer_summary`, which does the same). Run by hand in JupyterLab
(``live_progress=True``) it draws Dask's progress bar; run by papermill (``crmlab run``)
it writes one line per computation to ``run.log`` instead, and to the notebook only when a
computation took :data:`PROGRESS_LINE_SECONDS` or longer, so the saved notebook is not
flooded with bar updates.

An existing cluster (``engine.address``): the client (the notebook's kernel) only sends
task graphs and receives per-customer tables and counts; the workers read the transactions
and write the cleaning products themselves. So every worker needs

- crmlab installed, in the same version as the client (the tasks call its functions;
  ``distributed`` warns on mismatched versions of Dask, pandas, NumPy),
- the data at the same paths as the client sees them: the input ``path`` and
  ``paths.processed`` on a file system every worker mounts at the same place (NFS, a
  cluster file system), since ``transactions.parquet`` is written by the workers and read
  by the later stages' workers. (Object storage URLs such as ``s3://`` are not supported
  yet: crmlab resolves paths as local files.)
- memory for one customer bucket (``n_buckets`` splits the clean rows), not for the data.

The client needs memory for the per-customer tables only (a few hundred bytes a customer).

Customer buckets: :func:`write_customer_buckets` stores transactions as a Parquet dataset
split by a stable hash of ``customer_id`` (``customer_bucket=NNN/`` folders). Every
customer then lives in exactly one bucket, so :func:`read_parquet` can hand Dask one
partition per bucket that it knows to be customer-disjoint, and the customer summary runs
bucket by bucket with no shuffle; memory is bounded by the largest bucket, not the data.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlab.config import default
from crmlab.errors import InputError
from crmlab.io import write_parquet

__all__ = [
    "BUCKET_COLUMN",
    "PROGRESS_LINE_SECONDS",
    "compute",
    "is_dask",
    "Engine",
    "engine_session",
    "local_cluster_size",
    "read_parquet",
    "customer_bucket",
    "write_customer_buckets",
    "bucket_folders",
]

BUCKET_COLUMN = "customer_bucket"
_BUCKET_DIR = re.compile(rf"^{BUCKET_COLUMN}=(\d+)$")
_DASK_HINT = "install the Dask extra: pip install 'crmlab[dask]'"
# a computation at least this long is also announced in the notebook (always in run.log)
PROGRESS_LINE_SECONDS = 10.0


@dataclass
class Engine:
    """An open compute engine, as yielded by :func:`engine_session`.

    Attributes
    ----------
    name : str
        ``"pandas"`` or ``"dask"``.
    client : distributed.Client or None
        The Dask client (Dask only); computations in the session run on its cluster.
    cluster : distributed.LocalCluster or None
        The local cluster this session started (closed with the session), or None when
        the session connected to an existing scheduler or uses pandas.
    """

    name: str
    client: Any = None
    cluster: Any = None
    live_progress: bool = False
    log_file: Path | None = None

    @property
    def is_dask(self) -> bool:
        """Whether frames are read as Dask DataFrames."""
        return self.name == "dask"

    @property
    def dashboard_link(self) -> str | None:
        """URL of the Dask dashboard (paste it into dask-labextension), or None."""
        return getattr(self.client, "dashboard_link", None) if self.client else None

    @property
    def n_workers(self) -> int:
        """Dask workers in the cluster (1 for pandas)."""
        if self.client is None:
            return 1
        try:
            return len(self.client.nthreads())
        except Exception:  # the client is closed: the session has ended
            return 0  # scheduler_info() lists only a few workers

    def describe(self, tr: Any = None) -> str:
        """Describe the engine in one phrase, in the language of ``tr`` (a :class:`crmlab.i18n.Catalog`)."""
        from crmlab.i18n import EN

        tr = tr or EN
        if not self.is_dask:
            return tr("common.engine.pandas")
        where = tr("common.engine.local_cluster" if self.cluster is not None else "common.engine.cluster")
        addr = getattr(self.client, "scheduler", None)
        addr = getattr(addr, "address", "?")
        return tr("common.engine.dask", where=where, address=addr, n=self.n_workers,
                  dashboard=self.dashboard_link)

    def __str__(self) -> str:
        return self.describe()


def _settings(engine: Mapping[str, Any] | str | None) -> tuple[str, str | None, int | None, float]:
    """(name, address, n_workers, timeout) from a params block, a name, or None."""
    if engine is None:
        engine = {}
    elif isinstance(engine, str):
        engine = {"name": engine}
    elif not isinstance(engine, Mapping):
        raise InputError(f"engine: expected a mapping like {{name: dask}}, got {engine!r}")
    # a block not from the params loader (a test, a benchmark) falls back on the schema's defaults
    name = engine.get("name") or default("engine.name")
    if name not in ("pandas", "dask"):
        raise InputError(f"engine.name: {name!r} is not one of 'pandas', 'dask'")
    address = engine.get("address")
    if address is not None and (not isinstance(address, str) or not address.strip()):
        raise InputError(f"engine.address: expected a scheduler address such as "
                         f"'tcp://host:8786', got {address!r}")
    if address and name != "dask":
        raise InputError("engine.address: only used with engine.name: dask")
    n_workers = engine.get("n_workers")
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int)
                                  or n_workers < 1):
        raise InputError(f"engine.n_workers: expected a whole number >= 1, got {n_workers!r}")
    timeout = engine.get("timeout", default("engine.timeout"))
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise InputError(f"engine.timeout: expected seconds > 0, got {timeout!r}")
    return name, address, n_workers, float(timeout)


def local_cluster_size(n_workers: int | None = None, cpus: int | None = None) -> tuple[int, int]:
    """Workers and threads per worker for a local cluster on ``cpus`` cores.

    One single-threaded worker per core by default; with ``n_workers`` given, the cores are
    shared out between them.
    """
    cpus = cpus or os.cpu_count() or 1
    if n_workers is None:
        return cpus, 1
    return n_workers, max(1, cpus // n_workers)


@contextlib.contextmanager
def engine_session(engine: Mapping[str, Any] | str | None = None, log_file: str | Path | None = None,
                   live_progress: bool | None = None, **cluster_options: Any) -> Iterator[Engine]:
    """Open the engine described by a params ``engine`` block; close it on exit.

    Parameters
    ----------
    engine : mapping, str or None
        The params block ``{name, address, n_workers, timeout}`` (``p.engine``), or just
        ``"pandas"`` / ``"dask"``; None means pandas.
    log_file : str or Path, optional
        A Dask session announces itself — workers and the dashboard link — in the
        notebook, on the standard error of the process running it (the terminal of
        ``crmlab run``) and, when given, as a line appended to this file (the run's
        ``run.log``), so a long stage can be followed on the dashboard. Each computation
        of the session adds a line there too (what, partitions, seconds).
    live_progress : bool, optional
        True: draw Dask's progress bar for each computation (a notebook run by hand:
        ``live_progress=run_dir is None``). False: no bar, one line per computation in
        ``log_file`` (and in the output when it took :data:`PROGRESS_LINE_SECONDS` or
        more) — what a papermill run wants, as a bar's updates would all be saved in the
        notebook. None: a bar only when standard output is a terminal.
    **cluster_options
        Extra keyword arguments for ``distributed.LocalCluster`` when one is started, e.g.
        ``processes=True`` (one process per worker: for per-partition code that holds the
        GIL; scripts then need the ``if __name__ == "__main__":`` guard) or
        ``memory_limit="4GB"``.

    Yields
    ------
    Engine
        For Dask, a client registered as the default scheduler, so ``.compute()`` (and
        :func:`crmlab.features.customer_summary`) run on the cluster inside the block.

    Raises
    ------
    InputError
        Unknown engine name, Dask not installed, or no scheduler answering at
        ``engine.address`` within ``engine.timeout`` seconds (the message names the key).

    Notes
    -----
    With ``engine.address`` the session connects to a running scheduler (``dask
    scheduler`` + ``dask worker`` on other machines, a Kubernetes or HPC deployment) and
    closes only its client on exit, never the cluster. The workers run crmlab's code and
    read and write the products themselves: they need crmlab installed (same version as
    the client) and the input and ``paths.processed`` at the same paths (a shared file
    system). See the module docstring.
    """
    name, address, n_workers, timeout = _settings(engine)
    if name == "pandas":
        yield Engine("pandas")
        return
    try:
        import dask.dataframe  # noqa: F401  (fail here, not in the middle of a stage)
        from distributed import Client, LocalCluster

        from crmlab.dask_memory import local_memory_options
    except ImportError as exc:
        raise InputError(f"engine.name: dask is not installed ({exc}); {_DASK_HINT}") from None
    cluster = None
    if address:
        try:
            client = Client(address, timeout=timeout, set_as_default=True)
        except (OSError, TimeoutError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(
                f"engine.address: cannot reach a Dask scheduler at {address!r} within "
                f"{timeout:g} s ({first})"
            ) from None
    else:
        workers, threads = local_cluster_size(n_workers)
        # Workers are threads of this process unless told otherwise: the per-partition
        # work is NumPy / Arrow code that releases the GIL, results reach the client
        # without being serialised (at 100M rows the customer table is GBs), and a script
        # needs no `if __name__ == "__main__":` guard. All workers then share one process,
        # so each is limited by the machine's memory and spills its results to disk
        # before the process fills it (crmlab.dask_memory), not by a 1/n share of it.
        options = {
            "n_workers": workers,
            "threads_per_worker": threads,
            "processes": False,
            # a free port: several runs (or users) on one machine must not collide on 8787
            "dashboard_address": ":0",
        }
        options.update(cluster_options)
        memory, config = local_memory_options(options, cluster_options)  # spill, not die
        with dask.config.set(config):  # read by the workers as they start: not global
            cluster = LocalCluster(**options, **memory)
        client = Client(cluster, set_as_default=True)
    # P2P shuffles log every start and stop at WARNING level; in a notebook that reads as
    # trouble, so the session keeps them quiet (real errors still surface as exceptions)
    chatty = logging.getLogger("distributed.shuffle._scheduler_plugin")
    level = chatty.level
    chatty.setLevel(logging.ERROR)
    try:
        if live_progress is None:
            live_progress = bool(getattr(sys.stdout, "isatty", lambda: False)())
        eng = Engine("dask", client=client, cluster=cluster, live_progress=bool(live_progress),
                     log_file=None if log_file is None else Path(log_file))
        _announce(eng, log_file)
        token = _SESSION.set(eng)
        try:
            yield eng
        finally:
            _SESSION.reset(token)
    finally:
        chatty.setLevel(level)
        client.close()
        if cluster is not None:
            cluster.close()


def _announce(eng: Engine, log_file: str | Path | None) -> None:
    """Say where the Dask dashboard is: notebook, the process's terminal, the run log."""
    line = f"crmlab engine: {eng}"
    print(line, flush=True)  # the notebook's output
    real = getattr(sys, "__stderr__", None)  # in a kernel: the terminal of `crmlab run`
    if real is not None and real is not sys.stdout:
        print(line, file=real, flush=True)
    _log_line(log_file, line)


def _log_line(log_file: str | Path | None, line: str) -> None:
    """Append a line to the run log in the runner's format (nothing when there is none)."""
    import datetime as dt

    if log_file is None:
        return
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
    try:
        with open(log_file, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} INFO crmlab.engine: {line}\n")
    except OSError:
        pass  # a read-only run folder must not stop the stage


# --- computing: results to the client, with progress ------------------------------------------

# the open Dask session of this thread of execution (progress mode and run log)
_SESSION: contextvars.ContextVar[Engine | None] = contextvars.ContextVar("crmlab_engine", default=None)


def is_dask(obj: Any) -> bool:
    """Whether ``obj`` is a Dask collection (frame, series, scalar, delayed), not yet computed."""
    return type(obj).__module__.startswith("dask") and hasattr(obj, "__dask_graph__")


@contextlib.contextmanager
def track(futures: list, what: str) -> Iterator[None]:
    """Show the progress of ``futures`` while the block gathers them (see :func:`compute`)."""
    eng = _SESSION.get()
    start = time.perf_counter()
    if eng is not None and eng.live_progress and futures:
        _progress_bar(futures)
    yield
    if eng is None:
        return
    seconds = time.perf_counter() - start
    line = f"computed {what} in {seconds:.1f} s"
    _log_line(eng.log_file, line)
    if not eng.live_progress and seconds >= PROGRESS_LINE_SECONDS:
        print(f"crmlab engine: {line}", flush=True)


def _progress_bar(futures: list) -> None:
    """Dask's bar: a widget in a notebook with ipywidgets, else the text bar (blocks)."""
    from distributed import progress

    if _widgets_shown():
        progress(futures, notebook=True)
    else:
        progress(futures, notebook=False)
        print(flush=True)  # the text bar ends without a newline


def _widgets_shown() -> bool:
    """Say whether a widget can show: in a Jupyter kernel with ipywidgets (not a terminal or a test)."""
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def compute(*values: Any, what: str = "aggregates") -> tuple:
    """Compute Dask values on the cluster and bring them here; anything else passes through.

    For aggregates and per-customer tables only: each value computed here arrives whole in
    the client's memory. The values share one pass over the data (one graph). Inside an
    :func:`engine_session` the computation shows progress (a bar, or a line in the run log).

    Parameters
    ----------
    *values
        Dask collections (e.g. ``tx["date"].min()``, ``len``-like reductions,
        ``groupby(...).sum()``) or plain values.
    what : str
        What is computed, for the progress line.

    Returns
    -------
    tuple
        The values, computed, in order (a 1-tuple for one value).
    """
    lazy = [i for i, v in enumerate(values) if is_dask(v)]
    if not lazy:
        return tuple(values)
    import dask

    out = list(values)
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):  # no distributed client: Dask's local scheduler
        done = dask.compute(*(values[i] for i in lazy))
    else:
        futures = client.compute([values[i] for i in lazy])
        with track(futures, what):
            done = client.gather(futures)
    for i, v in zip(lazy, done, strict=True):
        out[i] = v
    return tuple(out)


def keep_in_memory(frame: Any, engine: Mapping[str, Any] | None) -> Any:
    """Keep a Dask frame in the workers' memory when ``engine.persist`` says so.

    A stage that passes over the same rows many times (the value stage: customer tables at
    a dozen dates, window spends per origin) would otherwise re-read every bucket from disk
    on each pass. Persisting costs worker memory equal to the selected columns, so
    ``engine.persist: false`` turns it off when they do not fit. A pandas frame passes
    through unchanged.
    """
    if not is_dask(frame) or not (engine or {}).get("persist", True):
        return frame
    persisted = frame.persist()
    try:
        from distributed import futures_of, wait
    except ImportError:
        return persisted
    futures = futures_of(persisted)
    with track(futures, "keeping the transactions in the workers' memory"):
        wait(futures)
    return persisted


# --- reading --------------------------------------------------------------------------------


def bucket_folders(path: str | Path) -> list[tuple[int, Path]]:
    """List the ``customer_bucket=NNN`` folders of a bucketed dataset, by bucket number.

    Returns an empty list when ``path`` is a file or a folder without buckets.
    """
    path = Path(path)
    if not path.is_dir():
        return []
    found = []
    for child in path.iterdir():
        m = _BUCKET_DIR.match(child.name)
        if m and child.is_dir():
            found.append((int(m.group(1)), child))
    return sorted(found)


def _read_bucket(folder: Path, bucket: int, columns: list[str] | None) -> pd.DataFrame:
    df = pd.read_parquet(folder, columns=columns, engine="pyarrow")
    df.index = pd.Index(np.full(len(df), bucket, dtype=np.int64), name=BUCKET_COLUMN)
    return df


def read_parquet(path: str | Path, engine: Engine | None = None, columns: list[str] | None = None):
    """Read a Parquet file or dataset as a pandas or a Dask DataFrame, as the engine says.

    Parameters
    ----------
    path : str or Path
        A Parquet file, a folder of Parquet files, or a customer-bucketed dataset written
        by :func:`write_customer_buckets`.
    engine : Engine, optional
        From :func:`engine_session`; None or pandas reads everything into memory.
    columns : list of str, optional
        Read only these columns.

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        For a bucketed dataset on Dask: one partition per bucket, indexed by
        ``customer_bucket`` with known divisions, which tells
        :func:`crmlab.features.customer_summary` that no customer spans two partitions.
        With pandas the bucket is not a column: the rows are just the transactions.

    Raises
    ------
    InputError
        When the path does not exist or is not readable as Parquet.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    buckets = bucket_folders(path)
    try:
        if engine is None or not engine.is_dask:
            df = pd.read_parquet(path, columns=columns, engine="pyarrow")
            return df.drop(columns=[BUCKET_COLUMN], errors="ignore")
        import dask.dataframe as dd

        if not buckets:
            return dd.read_parquet(str(path), columns=columns)
        import pyarrow.parquet as pq

        first = next(buckets[0][1].glob("*.parquet"))
        meta = pq.read_schema(first).empty_table().to_pandas()
        meta = meta[columns] if columns else meta
        meta.index = pd.Index([], dtype=np.int64, name=BUCKET_COLUMN)
        numbers = [b for b, _ in buckets]
        return dd.from_map(
            partial(_read_bucket, columns=columns),
            [f for _, f in buckets],
            numbers,
            meta=meta,
            divisions=(*numbers, numbers[-1]),
            label="read-customer-buckets",
            enforce_metadata=False,
        )
    except (OSError, ValueError, StopIteration) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{path}: cannot read as Parquet ({first})") from None


# --- writing customer buckets ---------------------------------------------------------------


def customer_bucket(customer_id: pd.Series, n_buckets: int) -> np.ndarray:
    """Bucket number in ``[0, n_buckets)`` of every row: a stable hash of the id text.

    The hash (pandas' SipHash with its fixed key) is the same on every machine and in
    every run, so data appended later lands in the same bucket as earlier rows of the
    same customer. Each distinct id is hashed once.

    Raises
    ------
    InputError
        When ``n_buckets`` is not a positive whole number or an id is missing.
    """
    if isinstance(n_buckets, bool) or not isinstance(n_buckets, (int, np.integer)) or n_buckets < 1:
        raise InputError(f"n_buckets: expected a whole number >= 1, got {n_buckets!r}")
    codes, uniques = pd.factorize(pd.Series(customer_id), sort=False)
    if (codes < 0).any():
        raise InputError(f"customer_id: {(codes < 0).sum()} missing values")
    text = np.asarray(pd.Index(uniques, dtype=object).astype(str), dtype=object)
    hashed = pd.util.hash_array(text, categorize=False) % np.uint64(n_buckets)
    return hashed.astype(np.int64)[codes]


def write_customer_buckets(transactions: pd.DataFrame, path: str | Path, n_buckets: int = 64,
                           name: str = "part") -> Path:
    """Write transactions as a customer-bucketed Parquet dataset (one call may append).

    Rows go to ``<path>/customer_bucket=NNN/<name>.parquet`` by :func:`customer_bucket`,
    keeping their order. Call it once per chunk with a different ``name`` to write data
    larger than memory; always use the same ``n_buckets`` for one dataset.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Any columns, including ``customer_id``.
    path : str or Path
        The dataset folder (created if needed).
    n_buckets : int
        Number of buckets; pick it so one bucket fits comfortably in a worker's memory
        (CDNOW x 1,450 = 100M rows in 64 buckets is 1.6M rows, ~60 MB on disk, a bucket).
    name : str
        File name (without ``.parquet``) of this call's piece in every bucket.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        When ``customer_id`` is missing or has missing values, or ``n_buckets`` is invalid.
    """
    if "customer_id" not in transactions.columns:
        raise InputError("transactions: required column 'customer_id' missing")
    bucket = customer_bucket(transactions["customer_id"], n_buckets)
    order = np.argsort(bucket, kind="stable")
    counts = np.bincount(bucket, minlength=n_buckets)
    rows = transactions.take(order)
    pos = 0
    for b, count in enumerate(counts):
        if count:
            target = Path(path) / f"{BUCKET_COLUMN}={b:03d}" / f"{name}.parquet"
            write_parquet(rows.iloc[pos : pos + count], target)
        pos += count
    return Path(path)
