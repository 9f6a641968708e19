"""One kernel for every notebook of a build, each from a fresh start."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import SQMReportError
from .logs import _quiet_kernel_manager
from .notebook import DEFAULT_TIMEOUT

# the kernel runs this before each notebook: a function of the package (a renamed one fails the build with its
# name, and tests/test_architecture.py imports it)
RESET = "__import__({module!r}, fromlist=['fresh_start']).fresh_start({cwd!r}, {inputs!r})"
WARM_UP = "__import__({module!r}, fromlist=['warm_up']).warm_up({modules!r})"
SESSION_MODULE = "sqmlib.runner.session"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _reset_kernel(km, cwd: Path, inputs: str | None = None, timeout: float = 60, stopped=lambda: False) -> None:
    """Give the next notebook a fresh start in a shared kernel: every variable gone, figures closed, matplotlib's
    settings as before the first notebook (a lesson switching to a Chinese font does not leak into the next),
    the notebook's output folder as working directory and execution counts from 1. The imported modules stay
    loaded, which is what saves the time, and the data folder is read once per build (``inputs``: its input
    checksums, see :func:`sqmlib.runner.session.fresh_start`)."""
    kc = _client(km)
    try:
        msg_id = kc.execute(RESET.format(module=SESSION_MODULE, cwd=str(cwd), inputs=inputs), store_history=False)
        reply = _reply(km, kc, msg_id, timeout, stopped, "its reset")
        if reply["content"].get("status") != "ok":
            raise SQMReportError(f"the report's kernel could not be reset: {reply['content'].get('evalue', '')}")
    finally:
        kc.stop_channels()


def _client(km):
    from jupyter_client import BlockingKernelClient

    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels()
    return kc


def _reply(km, kc, msg_id: str, timeout: float, stopped, what: str) -> dict:
    """The kernel's reply to the request ``msg_id`` on the shell channel (iopub may have been joined too late to
    see anything)."""
    import queue
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            reply = kc.get_shell_msg(timeout=0.5)
        except queue.Empty:  # a kernel shut down meanwhile (the build was stopped) never answers
            if stopped() or not km.has_kernel or time.monotonic() > deadline:
                raise SQMReportError(f"the report's kernel did not answer {what}") from None
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


class SharedKernel:
    """Run notebooks with papermill one after the other in one kernel, each from a fresh start
    (:func:`_reset_kernel`): starting a kernel and importing the scientific stack once instead of once per
    notebook. Use as a context manager; the kernel is shut down on leaving it, also on errors and interrupts."""

    def __init__(self, kernel: str = "python3", threads: int | None = None):
        self.km = _quiet_kernel_manager()(kernel_name=kernel)
        self.threads = threads
        self.closed = False  # shut down: no notebook starts in it again
        self._warming = None  # (client, request) of the imports asked for by start(), not yet answered

    def start(self, modules: Sequence[str] = (), cwd: Path | None = None) -> "SharedKernel":
        """Start the kernel now (in ``cwd``: a folder of the build's, so that no module of the caller's working
        directory is imported) and let it import ``modules`` (those the notebooks will import) while the caller
        prepares the notebooks; the first notebook waits for them. Nothing changes for the notebooks: their
        fresh start, namespace and figures are as without it."""
        if self.closed or self.km.has_kernel:
            return self
        self._launch(cwd)
        kc = _client(self.km)
        self._warming = (kc, kc.execute(WARM_UP.format(module=SESSION_MODULE, modules=list(modules)),
                                        store_history=False, silent=True))
        return self

    def _launch(self, cwd: Path | None) -> None:
        """Start the kernel process (in ``cwd``, with :meth:`_env`)."""
        from jupyter_client.utils import run_sync

        env = self._env()
        run_sync(self.km.start_kernel)(**({"env": env} if env is not None else {}),
                                       **({"cwd": str(cwd)} if cwd is not None else {}))

    def _warmed(self, timeout: float = 600) -> None:
        """Wait until the imports asked for by :meth:`start` are done (a failed import is the notebook's to
        report, in its own cell)."""
        if self._warming is None:
            return
        kc, msg_id = self._warming
        self._warming = None
        try:
            _reply(self.km, kc, msg_id, timeout, lambda: self.closed, "its start")
        finally:
            kc.stop_channels()

    def _env(self) -> dict | None:
        """The kernel's environment: with ``threads``, that many BLAS/OpenMP threads (kernels side by side each
        get their share of the cores: threads spinning against another kernel's make both many times slower)."""
        if self.threads is None:
            return None
        n = str(max(1, self.threads))
        return {**os.environ, **{k: n for k in THREAD_VARIABLES}}

    def __enter__(self) -> "SharedKernel":
        return self

    def __exit__(self, *exc) -> bool:
        self.shutdown()
        return False

    def shutdown(self) -> None:
        """Stop the kernel now (a notebook running in it fails; none starts in it afterwards); nothing happens
        when it is not running."""
        from jupyter_client.utils import run_sync

        self.closed = True
        if self._warming is not None:
            self._warming[0].stop_channels()
            self._warming = None
        if self.km.has_kernel:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # already gone (killed, interrupted): nothing left to stop
                pass

    def execute(self, notebook: Path, target: Path, parameters: Mapping[str, Any], cwd: Path, *,
                timeout: int = DEFAULT_TIMEOUT, progress: bool = False, inputs: str | None = None) -> None:
        """papermill's ``execute_notebook`` of ``notebook`` into ``target`` in the shared kernel."""
        import papermill as pm

        if self.closed:
            raise SQMReportError("the report's kernel was shut down: the build was stopped")
        if not self.km.has_kernel:  # not started by start(): now, without importing anything first
            self._launch(cwd)
        if self.closed:  # shut down while it was starting
            self.shutdown()
            raise SQMReportError("the report's kernel was shut down: the build was stopped")
        self._warmed()
        _reset_kernel(self.km, cwd, inputs, stopped=lambda: self.closed)
        try:
            pm.execute_notebook(str(notebook), str(target), parameters=dict(parameters),
                                kernel_name=self.km.kernel_name, progress_bar=progress, execution_timeout=timeout,
                                log_output=False, km=self.km)  # no cwd: papermill would chdir this process,
            # which kernels side by side share (the kernel's own working directory is set by the fresh start)
        finally:
            _stable_cell_ids(target)


def _stable_cell_ids(path: Path) -> None:
    """papermill gives the cell it injects a random id: a fixed one instead, so that two runs of the same
    notebook on the same data give the same file (and the same rendered page)."""
    import nbformat

    if not path.exists():
        return
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []) and cell.get("id") != "injected-parameters":
            cell["id"] = "injected-parameters"
            changed = True
    if changed:
        nbformat.write(nb, path)
