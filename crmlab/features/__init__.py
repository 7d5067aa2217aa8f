"""Transactions -> one row per customer: the Buy-Till-You-Die summary and friends.

The definitions and how the summary stays fast and exact are in
:mod:`crmlab.features.summary`; the names below are the package's public API.
"""

# _by_customer (each customer's rows in one Dask partition) is shared with crmlab.cleaning
from crmlab.features.describe import describe_features
from crmlab.features.partitions import _by_customer  # noqa: F401
from crmlab.features.summary import (
    SUMMARY_COLUMNS,
    customer_summaries,
    customer_summary,
    daily_purchases,
)

__all__ = ["SUMMARY_COLUMNS", "customer_summary", "customer_summaries", "daily_purchases",
           "describe_features"]
