"""Shared plotting setup: Chinese labels draw as text, never as empty boxes."""

from __future__ import annotations

import os
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from crmlab.plotting import cjk_font, get_ax, use_cjk_fallback  # noqa: E402


@pytest.fixture
def restore_rc():
    saved = dict(plt.rcParams)
    yield
    plt.rcParams.update(saved)
    plt.close("all")


def test_get_ax_makes_one_when_none_is_given(restore_rc):
    ax = get_ax()
    assert get_ax(ax) is ax


def test_chinese_labels_render_without_missing_glyphs(restore_rc, tmp_path, caplog):
    if cjk_font() is None:
        if os.environ.get("CI"):
            pytest.fail("no CJK font on the CI machine (.ci/run installs fonts-wqy-microhei)")
        pytest.skip("no CJK font installed (apt install fonts-noto-cjk or fonts-wqy-microhei)")
    family = use_cjk_fallback()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.bar(["门店", "微信", "web"], [3, 5, 2])
        ax.set(title="渠道构成 channel mix", xlabel="渠道 (channel)", ylabel="客户数 (customers)")
        ax.set_title("加粗标题 bold title", fontweight="bold")  # no "weight bold" note either
        fig.savefig(tmp_path / "zh.png")
    missing = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not missing, missing[:3]
    assert "Failed to find font weight" not in caplog.text
    assert plt.rcParams["font.family"] == ["DejaVu Sans", family]  # Latin text keeps its font
