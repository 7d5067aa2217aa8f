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
