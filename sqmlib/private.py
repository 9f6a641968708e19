"""Files of one's own: a private folder for logs, kept notebooks and fonts, and writes that never follow a link.

Shared temporary folders are a place where another local user can plant a folder or a symbolic link before sqm
writes there. Everything sqm writes for itself goes to a folder only its user can enter (the user's cache
directory, ``$XDG_CACHE_HOME/sqm`` or ``~/.cache/sqm``, checked for owner and mode; else a fresh ``mkdtemp``),
files are created new (``O_EXCL | O_NOFOLLOW``, mode 0600), and a file the user asked for (an instrument draft)
is written beside its target and renamed over it, so a planted link is replaced, never written through.
"""
from __future__ import annotations

import os
import stat
import tempfile
import time
from pathlib import Path

from .errors import SQMError

RETENTION_DAYS = 7  # kept notebooks and logs older than this are removed when the next ones are written


def _owned_private(path: Path) -> bool:
    """Whether ``path`` is a real folder (not a link) of this user that nobody else may enter."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return stat.S_ISDIR(st.st_mode) and mine and not (st.st_mode & 0o077)


def private_dir(name: str) -> Path:
    """A folder for sqm's own files of kind ``name`` that only this user can enter: under the user's cache
    directory when that is safe (created 0700; an existing one must be this user's and closed to others), else a
    new private temporary folder."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sqm"
    folder = base / name
    try:
        for p in (base, folder):
            if not os.path.lexists(p):
                os.makedirs(p, mode=0o700, exist_ok=True)
                os.chmod(p, 0o700)
            if not _owned_private(p):
                raise PermissionError(f"{p} is not a private folder of this user")
        return folder
    except OSError:
        return Path(tempfile.mkdtemp(prefix=f"sqm-{name}-"))  # 0700, new, ours


def write_new(path: Path, data: bytes) -> Path:
    """Create ``path`` (it must not exist, and a link there is not followed) with ``data``, readable by this user
    only (0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def remove_old(folder: Path, days: float = RETENTION_DAYS) -> None:
    """Remove this user's files in ``folder`` older than ``days`` (kept notebooks and logs do not pile up)."""
    cutoff = time.time() - days * 86400
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for e in entries:
        try:
            st = e.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                os.unlink(e.path)
        except OSError:
            pass


def keep(kind: str, stem: str, suffix: str, data: bytes) -> Path:
    """Keep ``data`` for the user in the private folder of ``kind`` (:func:`private_dir`) as a new file named by
    ``stem``, this process and the time, after removing that folder's files older than :data:`RETENTION_DAYS`."""
    folder = private_dir(kind)
    remove_old(folder)
    return write_new(folder / f"{stem}-{os.getpid()}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}", data)


def replace_atomically(path: str | Path, data: bytes, *, force: bool) -> Path:
    """Write ``data`` to ``path`` all at once: into a new file beside it, then renamed over it, so that a full
    disk or Ctrl+C leaves the old file whole and a symbolic link at ``path`` is replaced, not written through.
    Without ``force`` anything already at ``path`` (a dangling link included) is an error."""
    path = Path(path)
    if os.path.lexists(path) and not force:
        raise SQMError(f"{path} exists; it was left as it is (use --force to replace it)")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
