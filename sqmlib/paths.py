"""Where things are: the project root, the bundled data, the notebooks and the reports folder.

Relative paths given as notebook parameters are resolved against the project root, never against the folder
a notebook happens to run in, so that a notebook gives the same result from JupyterLab and from papermill.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = PROJECT_ROOT / "reports"


def resolve(path: str | Path | None, default: Path | None = None) -> Path:
    """Resolve a path parameter.

    Empty or ``None`` gives ``default``; an absolute path is kept; a relative one is taken from the project root.
    """
    if path is None or str(path) == "":
        if default is None:
            raise ValueError("a path is required")
        return Path(default)
    p = Path(path).expanduser()
    return p if p.is_absolute() else (PROJECT_ROOT / p)
