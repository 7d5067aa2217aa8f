"""Shim: :mod:`crmlab.config` checks ``survey.model`` with ``crmlab.satisfaction_pls.pls_model``.

The stage lives in :mod:`crmlab.satisfaction` (this name's code is
:mod:`crmlab.satisfaction.pls_stage`); drop this module once config imports from there.
"""

from crmlab.satisfaction.pls_stage import pls_model

__all__ = ["pls_model"]
