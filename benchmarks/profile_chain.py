"""Seconds per step of the cleaning and segmentation stages, in one process (wall and CPU).

Calls the same functions, in the same order, as ``notebooks/01_data_cleaning.ipynb`` and
``notebooks/02_segmentation.ipynb`` on the pandas engine, timing each step, so a slow step
shows up without papermill's per-cell granularity. Figures are drawn (the displays build
them) but not saved; the tables the notebook saves are written with ``ctx.save_table``
under ``DIR/run/tables``. The notebooks' HTML export is not timed: ``bench_chain.py``
measures the whole run.

Usage: ``python benchmarks/profile_chain.py [--export-copies 216] [--stage cleaning,segmentation]
[--out DIR] [--cprofile FILE]`` (products go to ``DIR``, default a temporary folder).
It runs under the allocator settings of a stage kernel (``crmlab.kernel.ALLOCATOR_ENV``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

_STEPS: list[tuple[str, float, float, float]] = []


def _cpu() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


@contextlib.contextmanager
def step(name: str):
    """Time one step: wall seconds and CPU seconds of this process (all threads).

    CPU is also split into user and system seconds: on a busy virtual machine the
    system time (page faults of fresh arrays) swings from run to run, the user time
    much less, so compare user seconds between runs.
    """
    w, (u, s) = time.perf_counter(), _cpu()
    yield
    u2, s2 = _cpu()
    _STEPS.append((name, time.perf_counter() - w, u2 - u, s2 - s))
    wall, user, system = _STEPS[-1][1:]
    print(f"  {name:<34} {wall:7.2f} s wall {user + system:7.2f} s CPU "
          f"({user:6.2f} user {system:6.2f} sys)", flush=True)


def cleaning(p, out: Path) -> None:
    """The compute of notebook 01 on the pandas engine."""
    import matplotlib.pyplot as plt

    from crmlab import cleaning as cl
    from crmlab.io import read_input, write_json, write_parquet

    section = p.transactions
    observation_end = p.periods.observation_end if p.periods else None
    with step("cleaning: read_input"):
        raw, info = read_input(section)
    with step("cleaning: clean_transactions"):
        result = cl.clean_transactions(raw, section, observation_end, source=info.path)
    del raw
    with step("cleaning: monthly_activity_display"):
        activity = cl.monthly_activity_display(result.clean, result.report, "x", "$")
        activity.figure() if callable(getattr(activity, "figure", None)) else None
    with step("cleaning: order_values_display"):
        cl.order_values_display(result.clean["amount"], "$")
    with step("cleaning: write transactions.parquet"):
        write_parquet(result.clean, out / "transactions.parquet")
    with step("cleaning: write quarantine.parquet"):
        write_parquet(result.quarantine, out / "quarantine.parquet")
    from crmlab.engine import engine_session

    with engine_session("pandas") as eng:  # the engine's name, as the notebook writes it
        write_json(cl.with_source(result.report, info, str(eng)), out / "cleaning_report.json")
    plt.close("all")


def segmentation(p, out: Path) -> None:
    """The compute of notebook 02 on the pandas engine."""
    import matplotlib.pyplot as plt

    from crmlab import segmentation as seg
    from crmlab.context import StageContext
    from crmlab.engine import read_parquet
    from crmlab.features import customer_summaries, describe_features
    from crmlab.io import write_parquet
    from crmlab.stages import get_stage

    s = p.segmentation
    # the tables the notebook saves (ctx.save_table, and ctx.show for a display's table)
    ctx = StageContext(get_stage("segmentation"), p, out, out / "run")
    ctx.tables.mkdir(parents=True, exist_ok=True)

    def show(display):
        if display.table is not None:
            ctx.save_table(display.table, display.table_name or display.name)
        return display

    with step("segmentation: read transactions"):
        tx = read_parquet(out / "transactions.parquet")
    calibration_end = p.periods.calibration_end if p.periods else None
    with step("segmentation: customer_summaries"):
        as_of, _ = seg.observation_date(tx, p.periods)
        dates = [as_of] if calibration_end is None else [as_of, calibration_end]
        summary, *earlier = customer_summaries(tx, dates)
    with step("segmentation: describe"):
        describe_features(summary, ["frequency", "recency", "T", "purchase_days", "days_since_last",
                                    "total_spend", "spend_per_line", "monetary_value"])
    with step("segmentation: segment_customers"):
        customers = seg.segment_customers(summary, s)
        ctx.save_table(seg.score_distribution(customers).reset_index(), "segmentation_rfm_scores")
    with step("segmentation: rfm_grid_display"):
        seg.rfm_grid_display(customers, s.segment_map)
    with step("segmentation: segment_sizes_display"):
        show(seg.segment_sizes_display(customers))
    with step("segmentation: k_search"):
        search = seg.k_search(customers, s)
        k = seg.choose_k(search, s.k)
        if not search.empty:
            show(seg.k_search_display(search, k, fixed=s.k is not None))
    with step("segmentation: fit_clusters"):
        labels = seg.fit_clusters(customers, k, s)
    with step("segmentation: stability_display"):
        show(seg.stability_display(customers, labels, s))
    with step("segmentation: assign_clusters"):
        customers = seg.assign_clusters(customers, labels)
    with step("segmentation: cluster_profiles_display"):
        prof = show(seg.cluster_profiles_display(customers, "$")).table
    with step("segmentation: cluster_projection_display"):
        seg.cluster_projection_display(customers, prof, s.seed)
    with step("segmentation: lorenz_display"):
        show(seg.lorenz_display(customers, p.report.top_share))
    with step("segmentation: tiers_display"):
        show(seg.tiers_display(customers, s.tiers, "$"))
    with step("segmentation: lifecycle_display"):
        show(seg.lifecycle_display(customers))
    plt.close("all")
    with step("segmentation: dynamic_view"):
        view = seg.dynamic_view(tx, customers, calibration_end, as_of, s,
                                before_summary=next(iter(earlier), None))
    del tx
    with step("segmentation: transition tables+displays"):
        for name, table in seg.transition_tables(view).items():
            ctx.save_table(table, name)
        for col in ("value_tier", "lifecycle_stage", "rfm_segment"):
            seg.transitions_display(view, col)
    with step("segmentation: save moved-down table"):
        ctx.save_table(view.down, "segmentation_moved_down")
        view.down.head(15)
    plt.close("all")
    with step("segmentation: customer_table + write"):
        product = seg.customer_table(customers)
        write_parquet(product, out / "customers.parquet")


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export-copies", type=int, default=216)
    ap.add_argument("--stage", default="cleaning,segmentation")
    ap.add_argument("--out", default=None)
    ap.add_argument("--cprofile", default=None, help="write cProfile stats to this file")
    args = ap.parse_args(argv)
    from crmlab.kernel import kernel_env

    extra = kernel_env()
    if extra:  # run with the allocator settings a stage kernel gets (crmlab.kernel)
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **extra})
    from bench_chain import export_params

    from crmlab.config import load_params

    p = load_params(export_params(args.export_copies))
    out = Path(args.out or tempfile.mkdtemp(prefix="crmlab-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    prof = None
    if args.cprofile:
        import cProfile

        prof = cProfile.Profile(time.process_time)  # CPU seconds: the machine is shared
        prof.enable()
    w, (u, sy) = time.perf_counter(), _cpu()
    for stage in args.stage.split(","):
        {"cleaning": cleaning, "segmentation": segmentation}[stage](p, out)
    if prof is not None:
        prof.disable()
        prof.dump_stats(args.cprofile)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    u2, sy2 = _cpu()
    print(f"  {'total':<34} {time.perf_counter() - w:7.2f} s wall "
          f"{u2 - u + sy2 - sy:7.2f} s CPU ({u2 - u:6.2f} user {sy2 - sy:6.2f} sys), "
          f"peak {peak:,.0f} MB; products in {out}")


if __name__ == "__main__":
    main()
