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
freed. Variables the user has set win.
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
           "ALLOCATOR_ENV", "KERNEL_DISPLAY_NAME"]

KERNEL_DISPLAY_NAME = "crmlab (this environment)"

#: glibc malloc settings for stage kernels: large blocks come from the heap (no mmap per
#: array), freed memory stays with the process for the next array (no trim below 64 GiB),
#: and the heap grows 256 MiB at a time. Only the stage's own process is affected.
ALLOCATOR_ENV = {
    "MALLOC_MMAP_MAX_": "0",
    "MALLOC_TRIM_THRESHOLD_": str(64 << 30),
    "MALLOC_TOP_PAD_": str(256 << 20),
}


def kernel_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Return the variables a stage kernel gets on top of its parent's environment.

    Parameters
    ----------
    environ : dict, optional
        The parent's environment (``os.environ`` if omitted); a variable set there is kept.

    Returns
    -------
    dict
        :data:`ALLOCATOR_ENV` without the names ``environ`` already sets.
    """
    environ = os.environ if environ is None else environ
    return {k: v for k, v in ALLOCATOR_ENV.items() if k not in environ}


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

    #: start the kernel with :data:`ALLOCATOR_ENV` (see :class:`InMemoryKernelManager`)
    tuned_allocator = False

    @property
    def kernel_spec(self) -> KernelSpec:
        """The kernelspec of this interpreter (never looked up by name)."""
        if getattr(self, "_project_spec", None) is None:
            self._project_spec = KernelSpec(
                argv=kernel_argv(),
                display_name=KERNEL_DISPLAY_NAME,
                language="python",
                env=kernel_env() if self.tuned_allocator else {},
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

    tuned_allocator = True


def kernel_manager(engine_name: str) -> type[ProjectKernelManager]:
    """Return the kernel manager class for a stage on ``engine_name`` (``pandas`` or ``dask``)."""
    return InMemoryKernelManager if engine_name == "pandas" else ProjectKernelManager
