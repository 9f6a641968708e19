"""The kernels' and the runner's own messages go to a log file, not the console."""
from __future__ import annotations

from pathlib import Path

from ..private import private_dir

def kernel_log() -> Path:
    """The kernels' log, in this user's private folder (never a fixed name in a shared temporary folder)."""
    return private_dir("logs") / "kernels.log"
KERNEL_LOG_MAX = 10 << 20  # bytes before the log is rotated (one old file kept)


def _quiet_kernel_manager():
    """A kernel manager whose kernels write their own messages (the transport warning, a traceback when they are
    stopped) to a log file instead of the console of ``sqm report``."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            try:
                path = kernel_log()
                if path.exists() and path.stat().st_size > KERNEL_LOG_MAX:  # keep the last one only
                    path.replace(path.with_suffix(".old.log"))
                log = open(path, "ab")
            except OSError:
                log = None
            if log is not None:
                kw.setdefault("stderr", log)
                kw.setdefault("stdout", log)
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                if log is not None:
                    log.close()

    return QuietKernelManager


class _RunnerLogsToFile:
    """While notebooks run, the notebook runner's own log messages (papermill, nbclient through traitlets: e.g.
    "Kernel died while waiting for execute reply" when a build is interrupted) go to the kernel log file, not to
    the console of ``sqm report``, whose failures are one line."""

    NAMES = ("traitlets", "papermill", "nbclient")

    def __enter__(self):
        import logging

        self.saved = []
        try:
            handler = logging.FileHandler(kernel_log(), encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self.handler = handler
        for name in self.NAMES:
            lg = logging.getLogger(name)
            self.saved.append((lg, lg.propagate))
            lg.addHandler(handler)
            lg.propagate = False
        return self

    def __exit__(self, *exc):
        for lg, propagate in self.saved:
            lg.removeHandler(self.handler)
            lg.propagate = propagate
        self.handler.close()
        return False


def _one_line(text: str, limit: int = 300) -> str:
    """An error text on one line (its lines joined), at most ``limit`` characters."""
    flat = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[:limit - 3] + "…"
