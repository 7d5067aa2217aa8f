"""Transitional alias: the segment readings now live in :mod:`crmlab.segmentation`.

Kept only until notebook 06 and :mod:`crmlab.report` import from
:mod:`crmlab.segmentation` (or its ``narrative`` module); then delete this file.
"""

from crmlab.segmentation import (  # noqa: F401
    PROFILE_ACTIONS,
    SEGMENT_CLAIMS,
    SILHOUETTE_SCALE,
    SPEND_MEASURES,
    align_transitions,
    checked_actions,
    k_search_reading,
    reading_segment_names,
    score_ranges,
    segment_labels,
    segment_name_check,
    silhouette_strength,
    silhouette_ties,
)
