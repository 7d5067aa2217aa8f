"""Shared fixtures: paths to the bundled data and a params factory writing YAML to tmp."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
# The full ECSI structural model (construct -> predecessors), as seminr's mobi example.
ECSI_MODEL = {
    "Expectation": ["Image"],
    "Quality": ["Expectation"],
    "Value": ["Expectation", "Quality"],
    "Satisfaction": ["Image", "Expectation", "Quality", "Value"],
    "Complaints": ["Satisfaction"],
    "Loyalty": ["Image", "Satisfaction", "Complaints"],
}


@pytest.fixture
def write_params(tmp_path):
    """Write a params mapping to ``tmp_path/params.yaml`` and return its path."""

    def _write(mapping: dict, name: str = "params.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
        return path

    return _write


def _cjk_setup():
    """Chinese glyphs as matplotlib's fallback; fail on CI without a font, skip elsewhere."""
    import os

    import matplotlib.pyplot as plt

    from crmlab.plotting import cjk_font, use_cjk_fallback

    if cjk_font() is None:
        if os.environ.get("CI"):
            pytest.fail("no CJK font on the CI machine (.ci/run installs fonts-wqy-microhei)")
        pytest.skip("no CJK font installed (apt install fonts-noto-cjk or fonts-wqy-microhei)")
    saved = dict(plt.rcParams)
    use_cjk_fallback()
    return saved


def _cjk_teardown(saved):
    import matplotlib.pyplot as plt

    plt.close("all")
    plt.rcParams.update(saved)


@pytest.fixture
def cjk():
    """A CJK fallback font for one test (the rc settings are restored after it)."""
    saved = _cjk_setup()
    yield
    _cjk_teardown(saved)


@pytest.fixture(scope="module")
def cjk_module():
    """A CJK fallback font for a whole test module."""
    saved = _cjk_setup()
    yield
    _cjk_teardown(saved)


@pytest.fixture
def warning_inputs():
    """Purchase inputs of the churn warning for five customers at 1997-02-01 (known by hand).

    C and E bought once; E's P(alive) is impossible in BG/NBD (one-time buyers get 1), so a
    correct warning never flags E on it.
    """
    import numpy as np
    import pandas as pd

    return pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E"],
        "as_of": pd.Timestamp("1997-02-01"),
        "frequency": [3.0, 2.0, 0.0, 1.0, 0.0],
        "days_since_last": [25.0, 15.0, 100.0, 10.0, 5.0],
        "gap_mean": [10.0, 10.0, np.nan, 30.0, np.nan],
        "total_spend": [50.0, 80.0, 20.0, 200.0, 10.0],
        "p_alive": [0.9, 0.1, 1.0, 0.8, 0.1],
        "lapse_probability": [0.4, 0.95, 0.7, 0.2, 0.99],
    })


def missing_glyphs(fig) -> list[str]:
    """Draw ``fig`` and return matplotlib's "Glyph ... missing" warnings (empty when all render)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    return [str(w.message) for w in caught if "Glyph" in str(w.message)]


def segmentation_params(**changes) -> dict:
    """The ``segmentation`` params section the segmentation tests use, with ``changes``."""
    return {
        "k_range": [2, 5],
        "method": "kmeans",
        "seed": 42,
        "bootstrap": 3,
        "tiers": {"high": 0.5, "medium": 0.8},
        "lifecycle": {"new_days": 30, "at_risk_factor": 1.5, "lapsed_factor": 3.0},
        "segment_map": None,
        "rfm_monetary": "total",
        "k": None,
        **changes,
    }


def force_threads(monkeypatch, module, threshold: str) -> list[dict]:
    """Make ``module`` take its threaded path on small data; return the pools it opens.

    Sets ``module.<threshold>`` (the size from which it uses threads) to 0 and the core
    count to 2, and records the keyword arguments of every ``ThreadPoolExecutor`` the
    module opens, so a test can check that the threaded path really ran.
    """
    monkeypatch.setattr(module, threshold, 0)
    monkeypatch.setattr(module.os, "cpu_count", lambda: 2)
    pools: list[dict] = []
    real = module.ThreadPoolExecutor
    monkeypatch.setattr(module, "ThreadPoolExecutor", lambda *a, **kw: pools.append(kw) or real(*a, **kw))
    return pools
