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


def test_show_in_a_notebook_shows_the_saved_png_without_drawing_again(params_file, monkeypatch):
    # under the inline backend the saved file is what the notebook shows: one render, the
    # figure closed (else the backend would render and show it again at the cell's end)
    import IPython.display

    from crmlab import context as context_module

    ctx = stage_context(TOY, params_file)
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, *a, **k: shown.append(obj))
    monkeypatch.setattr(plt, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    renders = []
    real_print = plt.Figure.savefig
    monkeypatch.setattr(plt.Figure, "savefig", lambda self, *a, **k: renders.append(1) or real_print(self, *a, **k))

    def draw(ax=None):
        ax = ax or plt.subplots(figsize=(4, 3))[1]
        ax.bar(["a", "b"], [1, 2])
        ax.set(title="t", xlabel="x", ylabel="y (n)")
        return ax

    ctx.show(Display("toy_inline", "two bars.", draw, None))
    saved = (ctx.figures / "toy_inline.png").read_bytes()
    images = [o for o in shown if isinstance(o, IPython.display.Image)]
    assert len(renders) == 1 and len(images) == 1 and images[0].data == saved
    png_width = int.from_bytes(saved[16:20], "big")
    assert images[0].width == round(png_width * plt.rcParams["figure.dpi"] / 110)
    assert plt.get_fignums() == []  # closed: nothing left for the backend to draw again
    assert context_module.inline_image(b"not a png").width is None
