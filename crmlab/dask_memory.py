"""Memory settings of the workers of a local Dask cluster started by :func:`crmlab.engine.engine_session`.

A local cluster's workers are threads of the notebook's process by default. Dask's
memory manager then watches the whole process (the client's tables included), so its
defaults — each worker limited to a share of the machine, paused at 80 % of it — would
pause every worker as soon as the client holds a few GB, and wait forever. With the whole
machine as each worker's limit (what this module gives), results are spilled to disk:

- a worker spills its oldest results once they take more than its share of half the
  machine (``memory_target_fraction``: 0.5 / workers);
- every worker spills when the process passes 70 % of the machine
  (``memory_spill_fraction``);
- workers pause (run no new task) at 85 % (``memory_pause_fraction``), before the
  machine runs out; a worker thread cannot be restarted, so there is no terminate
  threshold.

A ``memory_limit`` the caller passes to ``LocalCluster`` wins. The fractions are Dask
settings that a worker reads when it starts; :func:`crmlab.engine.engine_session` sets
them only while its cluster starts, so nothing changes for other clusters or clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["local_memory_options", "machine_memory"]

#: fractions of the machine's memory: spill, pause (see the module docstring)
SPILL_FRACTION = 0.70
PAUSE_FRACTION = 0.85
#: the share of the machine all workers' results may take before they spill
TARGET_TOTAL = 0.5


def machine_memory() -> int | str:
    """Return the machine's memory in bytes (Dask's ``"auto"`` when psutil is missing)."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:  # psutil comes with distributed; be safe anyway
        return "auto"


def local_memory_options(options: Mapping[str, Any], given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the memory settings for ``LocalCluster(**options)``: keyword arguments and config.

    Parameters
    ----------
    options : mapping
        The cluster's options so far (``n_workers``, ``processes``, ...).
    given : mapping
        What the caller passed to ``LocalCluster``: a ``memory_limit`` there is kept.

    Returns
    -------
    (dict, dict)
        For workers in this process (``processes=False``): ``memory_limit`` (the
        machine's memory, unless given), and the ``distributed.worker.memory`` target,
        spill and pause fractions of the module docstring, to be set with
        ``dask.config.set`` only while the cluster starts (the workers read them then).
        Worker processes keep Dask's defaults (each its own share and nanny): two empty
        dicts.
    """
    if options.get("processes", True):
        return {}, {}
    workers = max(1, int(options.get("n_workers") or 1))
    kwargs = {} if "memory_limit" in given else {"memory_limit": machine_memory()}
    config = {
        "distributed.worker.memory.target": TARGET_TOTAL / workers,
        "distributed.worker.memory.spill": SPILL_FRACTION,
        "distributed.worker.memory.pause": PAUSE_FRACTION,
        "distributed.worker.memory.terminate": False,
    }
    return kwargs, config
