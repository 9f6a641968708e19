"""The fresh start every notebook of a build gets in the shared kernel (imported in the kernel only).

:func:`fresh_start` is what :class:`sqmlib.runner.kernel.SharedKernel` runs before each notebook: the user
namespace emptied (a new history session, so counts start at 1), figures closed, matplotlib's settings as before
the first notebook (a lesson that switches to a Chinese font does not leak into the next), English and no
instrument's wording until the notebook asks for them, the notebook's output folder as working directory, and
the build's data folder shared between notebooks while its input checksums stay the same (read once).
"""
from __future__ import annotations

import importlib
import os
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt

from .. import io
from ..render import fonts, labels

_RC: dict = {}  # matplotlib's settings before the first notebook of this kernel
_NOTEBOOKS: list[str] = []  # the output folders of the notebooks started in this kernel


def _remember_settings() -> None:
    """matplotlib's settings as the kernel started, for every notebook's fresh start (taken once)."""
    if not _RC:
        _RC.update({k: v for k, v in matplotlib.rcParams.items() if k != "backend"})


def warm_up(modules: Sequence[str]) -> None:
    """Import ``modules`` (those the build's notebooks import: ``package`` or ``package:name`` for ``from
    package import name``) in a kernel that has not run a notebook yet, while the builder prepares the
    notebooks. matplotlib's settings are remembered first, as the first fresh start would; a module that cannot
    be imported is left for its notebook to report."""
    _remember_settings()
    for entry in modules:
        package, _, name = entry.partition(":")
        try:
            module = importlib.import_module(package)
            if name:
                getattr(module, name, None)
        except Exception:  # the notebook's own import fails with the reason, in its cell
            pass


def fresh_start(cwd: str, inputs: str | None = None) -> None:
    """Reset the kernel this runs in for the next notebook (see the module's text); ``inputs`` keys the shared
    data folders (the build's input checksums; None: nothing shared)."""
    from IPython import get_ipython  # the kernel's own shell: only there is there one to reset

    get_ipython().reset(new_session=True)
    plt.close("all")
    if not _NOTEBOOKS:  # the first notebook of this kernel: matplotlib as the kernel started
        _remember_settings()
    else:
        matplotlib.rcParams.update(_RC)
        fonts.add_cjk_fallback.cache_clear()
        fonts.add_cjk_fallback()
    _NOTEBOOKS.append(cwd)
    labels.use("en")
    labels.forget_instrument()
    io.share_folders(inputs)
    os.chdir(cwd)
