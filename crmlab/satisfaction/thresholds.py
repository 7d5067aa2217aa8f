"""The rules of thumb and limits the satisfaction stage reads its numbers against.

References
----------
Nunnally (1978), *Psychometric Theory* (alpha 0.7).
Fornell & Larcker (1981), JMR 18(1) (composite reliability 0.7, AVE 0.5).
Henseler, Ringle & Sarstedt (2015), JAMS 43(1) (HTMT 0.85 / 0.90).
Reichheld (2003), Harvard Business Review 81(12) (NPS on a 0-10 question).
"""

from __future__ import annotations

__all__ = [
    "ALPHA_MIN",
    "CR_MIN",
    "AVE_MIN",
    "MAX_SHAPLEY_DRIVERS",
    "NPS_SCALE",
    "HTMT_STRICT",
    "HTMT_LIBERAL",
]

ALPHA_MIN = 0.7
CR_MIN = 0.7
AVE_MIN = 0.5
# Shapley/LMG visits every subset of drivers: 2**15 small solves is still well under a second.
MAX_SHAPLEY_DRIVERS = 15
NPS_SCALE = (0.0, 10.0)
HTMT_STRICT = 0.85  # conceptually distinct constructs
HTMT_LIBERAL = 0.90  # ... conceptually close ones (e.g. satisfaction and loyalty)
