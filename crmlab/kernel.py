"""The Jupyter kernel stage notebooks run on: this interpreter, over local IPC sockets.

papermill asks Jupyter for a kernel *by name*, and Jupyter looks the name up in a search
path where a user-level ``python3`` kernelspec (left by another Python, a conda base, a
global JupyterLab) can win over the project's own. A run would then execute the notebooks
with packages the tests never saw. :class:`ProjectKernelManager` skips the lookup: its
kernel is always ``sys.executable -m ipykernel_launcher`` - the interpreter that runs
``crmlab run`` (the project's ``.venv`` under ``make``).

It also talks to the kernel over IPC (Unix domain sockets in a private temporary folder)
instead of TCP on localhost: nothing listens on a port, and ipykernel 7 stops printing its
"Kernel is running over TCP without encryption" warning into every stage's log.

On the pandas engine the kernel starts with glibc's allocator told to keep freed memory
(:data:`ALLOCATOR_ENV`, :class:`InMemoryKernelManager`). A stage allocates and frees arrays
of one value per row again and again; by default every array above 32 MB is a fresh
``mmap`` that the kernel must fault in and zero page by page, and on a 15M-row export that
was a third of the two stages' CPU time. Not on the Dask engine: its in-process workers
spill to disk when memory runs short, and memory the allocator keeps would never show as
freed; there the kernel gets Dask's own worker setting (:data:`DASK_ALLOCATOR_ENV`).
Variables the user has set win.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import default

__all__ = ["ProjectKernelManager", "InMemoryKernelManager", "kernel_manager", "kernel_argv", "kernel_env",
           "ALLOCATOR_ENV", "DASK_ALLOCATOR_ENV", "KERNEL_DISPLAY_NAME"]

KERNEL_DISPLAY_NAME = "crmlab (this environment)"

#: Memory settings for stage kernels on the pandas engine: glibc's large blocks come from
#: the heap (no mmap per array), freed memory stays with the process for the next array
#: (no trim below 64 GiB), the heap grows 256 MiB at a time and threads share it (one
#: arena: a thread's own arena would fault in fresh pages again); NumPy does not ask for
#: transparent huge pages, whose first touch can stall in the kernel's memory compaction
#: (on this project's benchmark machine it cut the 15M-row cleaning stage from 29.8 s to
#: 20.9-22.5 s). Arrow's allocator (mimalloc) keeps what it frees too, instead of handing
#: it back to the system 10 ms later and faulting it in again for the next column (reading
#: the 15M-row export: 3.4 s -> 1.2-1.7 s). Only the stage's own process is affected.
ALLOCATOR_ENV = {
    "MALLOC_MMAP_MAX_": "0",
    "MALLOC_TRIM_THRESHOLD_": str(64 << 30),
    "MALLOC_TOP_PAD_": str(256 << 20),
    "MALLOC_ARENA_MAX": "1",
    "NUMPY_MADVISE_HUGEPAGE": "0",
    "MIMALLOC_PURGE_DELAY": "-1",
}

#: For stage kernels on the Dask engine: the workers are threads of the kernel, so they do
#: not get the environment Dask's nanny gives worker processes; its trim threshold lets
#: freed memory go back to the system, which the workers' spilling relies on.
DASK_ALLOCATOR_ENV = {"MALLOC_TRIM_THRESHOLD_": "65536"}


def kernel_env(environ: dict[str, str] | None = None, engine: str = "pandas") -> dict[str, str]:
    """Return the variables a stage kernel gets on top of its parent's environment.

    Parameters
    ----------
    environ : dict, optional
        The parent's environment (``os.environ`` if omitted); a variable set there is kept.
    engine : {"pandas", "dask"}
        The stage's engine: :data:`ALLOCATOR_ENV` or :data:`DASK_ALLOCATOR_ENV`.

    Returns
    -------
    dict
        Those settings without the names ``environ`` already sets.
    """
    environ = os.environ if environ is None else environ
    wanted = ALLOCATOR_ENV if engine == "pandas" else DASK_ALLOCATOR_ENV
    return {k: v for k, v in wanted.items() if k not in environ}


def kernel_argv(executable: str | None = None) -> list[str]:
    """Return the command that starts an IPython kernel on ``executable`` (default: this one).

    Parameters
    ----------
    executable : str, optional
        Path of a Python interpreter with ipykernel installed; ``sys.executable`` if omitted.

    Returns
    -------
    list of str
        The argv of a kernelspec, with Jupyter's ``{connection_file}`` placeholder.
    """
    return [executable or sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


class ProjectKernelManager(AsyncKernelManager):
    """An nbclient/papermill kernel manager pinned to this interpreter and IPC transport.

    Pass it as ``kernel_manager_class`` to :func:`papermill.execute_notebook`; the
    ``kernel_name`` papermill is given then only labels the notebook's metadata.
    """

    #: the engine whose memory settings the kernel starts with (:func:`kernel_env`)
    engine = "dask"

    @property
    def kernel_spec(self) -> KernelSpec:
        """The kernelspec of this interpreter (never looked up by name)."""
        if getattr(self, "_project_spec", None) is None:
            self._project_spec = KernelSpec(
                argv=kernel_argv(),
                display_name=KERNEL_DISPLAY_NAME,
                language="python",
                env=kernel_env(engine=self.engine),
                metadata={"debugger": False},
            )
        return self._project_spec

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        # IPC sockets are files named "<ip>-<port>": keep them in a private folder (short
        # enough for the 107-byte limit of a socket path), removed with the kernel
        self._ipc_dir = tempfile.mkdtemp(prefix="crmlab-kernel-")
        return os.path.join(self._ipc_dir, "k")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Remove the connection and socket files, and the private folder when done."""
        await super()._async_cleanup_resources(restart=restart)
        folder = getattr(self, "_ipc_dir", None)
        if not restart and folder:
            shutil.rmtree(folder, ignore_errors=True)


class InMemoryKernelManager(ProjectKernelManager):
    """:class:`ProjectKernelManager` for a stage on the pandas engine: with :data:`ALLOCATOR_ENV`."""

    engine = "pandas"


def kernel_manager(engine_name: str) -> type[ProjectKernelManager]:
    """Return the kernel manager class for a stage on ``engine_name`` (``pandas`` or ``dask``)."""
    return InMemoryKernelManager if engine_name == "pandas" else ProjectKernelManager
