"""Customer segmentation: RFM segments, clusters, value tiers, lifecycle stages, migration.

Modules, one concern each (pure functions over DataFrames, no I/O):

- :mod:`~crmlab.segmentation.rfm`: quintile scores, the segment map, segment profiles;
- :mod:`~crmlab.segmentation.clusters` and :mod:`~crmlab.segmentation.cluster_count`:
  K-means on log-scaled R, F and spend; choosing k; stability, names, profiles;
- :mod:`~crmlab.segmentation.tiers`: value tiers, Lorenz curve and Gini;
- :mod:`~crmlab.segmentation.lifecycle`: stages judged by each customer's own rhythm;
- :mod:`~crmlab.segmentation.migration`: transition matrices between two dates;
- :mod:`~crmlab.segmentation.customers`: the as-of date, the customer table at one or
  two dates, the ``customers.parquet`` product;
- :mod:`~crmlab.segmentation.narrative` (every sentence) and
  :mod:`~crmlab.segmentation.playbook` (the recommended actions);
- :mod:`~crmlab.segmentation.plotting` (figures) and :mod:`~crmlab.segmentation.views`
  (compute + takeaway + figure as one :class:`crmlab.display.Display`).

Everything public is re-exported here: ``from crmlab import segmentation as seg; seg.X``.
"""

from __future__ import annotations

from crmlab.segmentation import narrative, plotting, views
from crmlab.segmentation.cluster_count import (
    SILHOUETTE_SCALE,
    choose_k,
    k_search,
    silhouette_strength,
    silhouette_ties,
)
from crmlab.segmentation.clusters import (
    FIT_SAMPLE,
    assign_clusters,
    cluster_pipeline,
    cluster_profiles,
    cluster_projection,
    cluster_stability,
    fit_clusters,
    name_clusters,
)
from crmlab.segmentation.common import (
    CLUSTER_FEATURES,
    LIFECYCLE_ORDER,
    NEW_CUSTOMER,
    NOT_LISTED,
    SEGMENT_ORDER,
    TIER_ORDER,
)
from crmlab.segmentation.customers import (
    PRODUCT_COLUMNS,
    DynamicView,
    customer_table,
    dynamic_view,
    observation_date,
    segment_customers,
    snapshot,
)
from crmlab.segmentation.lifecycle import lifecycle_stages, lifecycle_table
from crmlab.segmentation.migration import (
    align_transitions,
    moved_down,
    transition_matrix,
    transition_summary,
)
from crmlab.segmentation.narrative import (
    SEGMENT_CLAIMS,
    SPEND_MEASURES,
    describe_transitions,
    k_search_note,
    k_search_reading,
    reading_segment_names,
    segment_labels,
    segment_name_check,
)
from crmlab.segmentation.playbook import (
    PROFILE_ACTIONS,
    checked_actions,
    segment_actions,
    tier_strategies,
)
from crmlab.segmentation.plotting import (
    plot_cluster_profiles,
    plot_cluster_projection,
    plot_k_search,
    plot_lifecycle,
    plot_lorenz,
    plot_rfm_grid,
    plot_segment_sizes,
    plot_stability,
    plot_tiers,
    plot_transitions,
)
from crmlab.segmentation.rfm import (
    DEFAULT_SEGMENT_MAP,
    quantile_scores,
    rfm_grid,
    rfm_scores,
    rfm_segments,
    score_distribution,
    score_ranges,
    segment_grid,
    segment_profiles,
    validate_segment_map,
)
from crmlab.segmentation.tiers import Concentration, concentration, tier_table, value_tiers
from crmlab.segmentation.views import (
    cluster_profiles_display,
    cluster_projection_display,
    k_search_display,
    lifecycle_display,
    lorenz_display,
    rfm_grid_display,
    segment_sizes_display,
    shown_table,
    stability_display,
    tiers_display,
    transition_tables,
    transitions_display,
)

__all__ = [
    # modules
    "narrative",
    "plotting",
    "views",
    # orders and labels
    "TIER_ORDER",
    "LIFECYCLE_ORDER",
    "SEGMENT_ORDER",
    "DEFAULT_SEGMENT_MAP",
    "CLUSTER_FEATURES",
    "NEW_CUSTOMER",
    "NOT_LISTED",
    "PRODUCT_COLUMNS",
    # the customer table
    "observation_date",
    "segment_customers",
    "snapshot",
    "customer_table",
    # RFM
    "quantile_scores",
    "rfm_scores",
    "score_distribution",
    "validate_segment_map",
    "segment_grid",
    "rfm_grid",
    "rfm_segments",
    "segment_profiles",
    "score_ranges",
    # tiers and concentration
    "value_tiers",
    "tier_table",
    "Concentration",
    "concentration",
    # lifecycle
    "lifecycle_stages",
    "lifecycle_table",
    # clusters
    "FIT_SAMPLE",
    "SILHOUETTE_SCALE",
    "cluster_pipeline",
    "k_search",
    "choose_k",
    "silhouette_strength",
    "silhouette_ties",
    "fit_clusters",
    "cluster_stability",
    "name_clusters",
    "cluster_profiles",
    "assign_clusters",
    "cluster_projection",
    # migration
    "transition_matrix",
    "transition_summary",
    "align_transitions",
    "moved_down",
    "DynamicView",
    "dynamic_view",
    # words: narrative and playbook
    "SPEND_MEASURES",
    "SEGMENT_CLAIMS",
    "PROFILE_ACTIONS",
    "segment_actions",
    "tier_strategies",
    "checked_actions",
    "segment_name_check",
    "segment_labels",
    "reading_segment_names",
    "k_search_note",
    "k_search_reading",
    "describe_transitions",
    # figures
    "plot_rfm_grid",
    "plot_segment_sizes",
    "plot_k_search",
    "plot_stability",
    "plot_cluster_profiles",
    "plot_cluster_projection",
    "plot_lorenz",
    "plot_tiers",
    "plot_lifecycle",
    "plot_transitions",
    # displays
    "rfm_grid_display",
    "segment_sizes_display",
    "k_search_display",
    "stability_display",
    "cluster_profiles_display",
    "cluster_projection_display",
    "lorenz_display",
    "tiers_display",
    "lifecycle_display",
    "transitions_display",
    "transition_tables",
    "shown_table",
]
