"""The summary report and run-over-run monitoring (stage ``report``, notebook 06).

A scheduled CRM run is read by people who do not read code. They want a handful of
headline numbers, what to do per segment and value tier, and — the reason the job runs
every week — what changed since the last run. The package is laid out by concern:

- :mod:`~crmlab.report.overview`: which stages fed the report (never a skipped stage's
  stale products);
- :mod:`~crmlab.report.kpis`: the headline KPIs, ``kpis.json`` and ``history.csv`` rows;
- :mod:`~crmlab.report.tables`: drivers, the tier watch list, churn-risk bands;
- :mod:`~crmlab.report.trends`: comparison with the previous run, tier moves, input drift,
  trends, and the state a run leaves for the next;
- :mod:`~crmlab.report.interactions`: the interactions section's numbers, read from
  ``interaction_metrics.json`` (its sentences in :mod:`~crmlab.report.narrative_interactions`);
- :mod:`~crmlab.report.narrative`: every sentence of the report;
- :mod:`~crmlab.report.html`: KPI cards and styled tables (escaped);
- :mod:`~crmlab.report.plotting` and :mod:`~crmlab.report.views`: figures, and the
  Display objects that compute, draw and save them;
- :mod:`~crmlab.report.inputs`: the run store as the report reads and leaves it;
- :mod:`~crmlab.report.i18n_check`: English left in a translated report (:func:`untranslated`).

Every function that words text for a reader takes ``tr`` (a :class:`crmlab.i18n.Catalog`,
English by default); the products keep their canonical (English) names and values.

Everything but :mod:`~crmlab.report.inputs` is pure: no files, no clock.
"""

from crmlab.report import narrative_interactions
from crmlab.report._values import _money as _money  # the tests check the shared formatter
from crmlab.report.html import (
    column_label,
    interaction_cards_html,
    kpi_cards_html,
    style_drift,
    style_drivers,
    style_first_rows,
    style_interaction_table,
    style_overview,
    style_plain,
    style_risk_bands,
    style_segments,
    style_tiers,
    style_watch,
)
from crmlab.report.i18n_check import untranslated, visible_text
from crmlab.report.inputs import (
    PreviousRun,
    ReportInputs,
    describe_inputs,
    history,
    load_inputs,
    previous_run,
    save_state,
)
from crmlab.report.interactions import (
    INTERACTION_KPIS,
    channel_share_table,
    complaint_monthly,
    interaction_kpi_label,
    interaction_kpis,
    interaction_sources,
    is_simulated,
    sentiment_accuracy_table,
)
from crmlab.report.kpis import (
    HISTORY_COLUMNS,
    INPUT_KINDS,
    KPI_INPUTS,
    KPI_LABELS,
    KPI_NAMES,
    KPIS,
    TREND_KPIS,
    Kpi,
    append_history,
    customer_kpis,
    data_sources,
    format_kpi,
    headline_kpis,
    history_row,
    kpi_delta,
    kpi_doc,
    kpi_label,
    kpi_units,
)
from crmlab.report.narrative import (
    churn_lists_line,
    compared_with,
    data_set_line,
    first_run_note,
    kpi_notes,
    kpi_readings,
    moved_down_summary,
    next_steps,
    reading_drift,
    reading_drivers,
    reading_index_model,
    reading_migrations,
    reading_risk_bands,
    reading_segments,
    reading_sources,
    reading_stages,
    reading_tiers,
    reading_watch,
    run_header,
    source_note,
    trend_count,
    unavailable,
)
from crmlab.report.overview import localized_overview, missing_reasons, stage_name, stage_overview
from crmlab.report.plotting import (
    plot_report_complaints,
    plot_report_migrations,
    plot_report_segments,
    plot_report_tiers,
    plot_report_trends,
)
from crmlab.report.tables import risk_band_table, tier_watch_table, top_drivers
from crmlab.report.trends import (
    compare_kpis,
    customer_snapshot,
    drift_check_name,
    input_drift,
    input_profile,
    kpi_change_table,
    migration_summary,
    new_watch_entries,
    trend_kpis,
    trend_labels,
    trend_table,
)
from crmlab.report.views import (
    complaints_display,
    drivers_display,
    migrations_display,
    observation_date,
    segments_display,
    tiers_display,
    trends_display,
)

__all__ = [
    # KPIs and history
    "Kpi", "KPIS", "KPI_NAMES", "KPI_LABELS", "KPI_INPUTS", "INPUT_KINDS", "TREND_KPIS",
    "HISTORY_COLUMNS", "data_sources", "customer_kpis", "headline_kpis", "format_kpi",
    "kpi_delta", "kpi_units", "kpi_label", "kpi_doc", "history_row", "append_history",
    # stages, tables, run over run
    "stage_overview", "stage_name", "missing_reasons", "localized_overview", "drift_check_name", "top_drivers", "tier_watch_table", "risk_band_table",
    "customer_snapshot", "input_profile", "compare_kpis", "kpi_change_table",
    "migration_summary", "new_watch_entries", "input_drift", "trend_table", "trend_labels",
    "trend_kpis",
    # narrative
    "source_note", "reading_sources", "reading_stages", "run_header", "data_set_line",
    "kpi_readings", "kpi_notes", "unavailable", "reading_segments", "reading_tiers",
    "reading_drivers", "reading_index_model", "reading_watch", "churn_lists_line",
    "reading_risk_bands", "first_run_note", "compared_with", "reading_migrations",
    "moved_down_summary", "reading_drift", "trend_count", "next_steps",
    # interactions
    "narrative_interactions",
    "INTERACTION_KPIS",
    "interaction_kpis",
    "interaction_kpi_label",
    "is_simulated",
    "sentiment_accuracy_table",
    "channel_share_table",
    "complaint_monthly",
    "interaction_sources",
    "interaction_cards_html",
    "style_interaction_table",
    "complaints_display",
    "plot_report_complaints",
    # markup
    "kpi_cards_html", "style_overview", "style_segments", "style_tiers", "style_drivers",
    "style_risk_bands", "style_watch", "style_first_rows", "style_plain", "style_drift", "column_label",
    # language check
    "untranslated", "visible_text",
    # figures and displays
    "plot_report_segments", "plot_report_tiers", "plot_report_migrations", "plot_report_trends",
    "segments_display", "tiers_display", "drivers_display", "migrations_display",
    "trends_display", "observation_date",
    # run store
    "ReportInputs", "PreviousRun", "load_inputs", "previous_run", "history",
    "describe_inputs", "save_state",
]
