"""The stage context: folders by hand and under the runner, and the registry as a contract."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab.context import UndeclaredProduct, stage_context  # noqa: E402
from crmlab.display import Display  # noqa: E402
from crmlab.errors import InputError  # noqa: E402
from crmlab.stages import STAGES, Stage, get_stage, producer_of  # noqa: E402

TOY = Stage("toy", "99_toy.ipynb", None, reads=("x.parquet",), optional_reads=("o.json",),
            writes=("out.parquet",))


@pytest.fixture
def params_file(tmp_path, write_params):
    return write_params({"run_name": "t", "paths": {"processed": str(tmp_path / "pr"),
                                                    "outputs": str(tmp_path / "out")}})


def test_stage_context_by_hand_and_under_the_runner(tmp_path, params_file):
    ctx = stage_context(TOY, params_file)
    assert ctx.processed == tmp_path / "pr" / "t" and ctx.fallback is None
    assert ctx.figures == tmp_path / "out" / "t" / "interactive" / "figures" and ctx.figures.is_dir()
    (ctx.processed / "x.parquet").write_text("old")
    staged = stage_context(TOY, params_file, run_dir=tmp_path / "run", processed_dir=tmp_path / "stage")
    assert staged.find("x.parquet") == ctx.processed / "x.parquet"  # falls back to earlier runs
    (staged.processed / "x.parquet").write_text("new")
    assert staged.input("x.parquet") == tmp_path / "stage" / "x.parquet"
    assert staged.find("o.json") is None  # optional and absent
    assert staged.output("out.parquet") == tmp_path / "stage" / "out.parquet"


def test_a_missing_product_names_the_stage_that_makes_it(tmp_path, params_file):
    ctx = stage_context("segmentation", params_file)
    with pytest.raises(InputError, match="run the 'cleaning' stage first"):
        ctx.input("transactions.parquet")


def test_undeclared_reads_and_writes_are_refused(params_file):
    ctx = stage_context(TOY, params_file)
    with pytest.raises(UndeclaredProduct, match="'toy' reads 'customers.parquet'"):
        ctx.find("customers.parquet")
    with pytest.raises(UndeclaredProduct, match="reads 'y.parquet'"):
        ctx.input("y.parquet")
    with pytest.raises(UndeclaredProduct, match="writes 'x.parquet'"):
        ctx.output("x.parquet")


def test_unknown_stage_name():
    with pytest.raises(KeyError, match="no stage named 'nope'"):
        get_stage("nope")


def test_registry_is_a_chain():
    """Every required read is written by an earlier stage; no product has two writers."""
    made: set[str] = set()
    writers = [p for s in STAGES for p in s.writes]
    assert len(writers) == len(set(writers))
    for st in STAGES:
        for need in st.reads:
            assert need in made, f"{st.name} reads {need} before any stage writes it"
        for opt in st.optional_reads:
            assert producer_of(opt) is not None, f"{st.name} reads {opt}, which no stage writes"
        made.update(st.writes)


def test_show_saves_figure_and_table_under_the_display_name(params_file):
    ctx = stage_context(TOY, params_file)

    def draw(ax=None):
        ax = ax or plt.subplots()[1]
        ax.bar(["a", "b"], [1, 2])
        ax.set(title="t", xlabel="x", ylabel="y (n)")
        return ax

    shown = ctx.show(Display("toy_bars", "two bars.", draw, pd.DataFrame({"v": [1, 2]})))
    assert (ctx.figures / "toy_bars.png").is_file() and (ctx.tables / "toy_bars.csv").is_file()
    assert shown.takeaway == "two bars."
    plt.close("all")


# --- ctx.save_table's fast CSV writer: the very bytes of crmlab.io.save_table ---------------


def _both(tmp_path, df, index=False):
    """Return (fast path used?, fast bytes, general bytes) of one table."""
    from crmlab.context import _save_table_fast
    from crmlab.io import save_table

    fast = _save_table_fast(df, tmp_path / "fast", "t", index, min_rows=0)
    slow = save_table(df, tmp_path / "slow", "t", index=index)
    return fast is not None, fast.read_bytes() if fast else None, slow.read_bytes()


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


def test_small_tables_take_the_general_writer(tmp_path, params_file):
    from crmlab.context import _save_table_fast

    assert _save_table_fast(_mixed(), tmp_path, "t", False) is None  # fewer than FAST_CSV_ROWS
    ctx = stage_context(TOY, params_file)
    path = ctx.save_table(_mixed(), "small")
    used, fast, slow = _both(tmp_path, _mixed())
    assert path.read_bytes() == slow


def test_ctx_save_table_of_a_big_table_is_the_general_writers_bytes(tmp_path, params_file):
    from crmlab.context import FAST_CSV_ROWS
    from crmlab.io import save_table

    big = pd.concat([_mixed()] * (FAST_CSV_ROWS // 60 + 1), ignore_index=True)
    ctx = stage_context(TOY, params_file)
    path = ctx.save_table(big, "big")
    assert path.read_bytes() == save_table(big, tmp_path / "slow", "big").read_bytes()
