"""Report folders: input checksums, failed notebooks, stale builds, and the all-or-nothing swap."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from ..errors import SQMReportError
from ..private import keep
from ..io import input_files, sha256_file


def _input_hashes(data_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(data_dir)): sha256_file(p) for p in input_files(data_dir)}


def _keep_failed(executed: Path) -> Path | None:
    """Keep a failed notebook's executed copy (with the error, and so with survey answers) where the user can
    open it: in this user's private folder (:func:`sqmlib.private.private_dir`), readable by the user only,
    never through a planted link; copies older than a week are removed."""
    if not executed.exists():
        return None
    try:
        return keep("failed-notebooks", executed.stem, ".ipynb", executed.read_bytes())
    except OSError:
        return None


def is_report(folder: Path) -> bool:
    """Whether a folder is a report sqm built (it holds ``provenance.json`` and ``index.html``)."""
    return (folder / "provenance.json").is_file() and (folder / "index.html").is_file()


def _check_replaceable(final: Path, force: bool) -> None:
    if not final.exists() and not final.is_symlink():
        return
    if not force:
        raise SQMReportError(f"a report for {final.name} already exists at {final}; it was left as it is. "
                             "Use --force (force=True) to replace it, or choose another --out folder.")
    if final.is_symlink() or not final.is_dir() or not is_report(final):
        raise SQMReportError(f"{final} is not a report built by sqm (no provenance.json and index.html): it was "
                             "left as it is, even with --force. Move it away or choose another --out folder.")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


STALE_RE = re.compile(r"^\.(\d{4}Q[1-4]|\d{4}-W\d{2}|study)\.(building|replaced)-(\d+)$")


def remove_stale_builds(out_root: Path) -> list[Path]:
    """Tidy the hidden folders left by builds whose process is gone (killed with ``kill -9``, a power cut):
    ``.<quarter>.building-<pid>`` (an unfinished report) is removed; ``.<quarter>.replaced-<pid>`` (an old report
    moved aside by ``--force``) is removed only when the new report is in place (the swap finished), put back
    when the quarter's folder is missing (the swap did not finish), and otherwise left alone. Returns the
    folders removed."""
    removed = []
    for p in Path(out_root).iterdir() if Path(out_root).is_dir() else []:
        m = STALE_RE.match(p.name)
        if not (m and p.is_dir() and not p.is_symlink() and int(m.group(3)) != os.getpid()
                and not _pid_alive(int(m.group(3)))):
            continue
        final = p.parent / m.group(1)
        if m.group(2) == "replaced":
            if not os.path.lexists(final) and is_report(p):
                p.rename(final)  # the old report back where it was
                continue
            if not is_report(final):
                continue  # neither a finished swap nor a place to restore to: left for a person
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def _swap_into_place(tmp: Path, final: Path, force: bool) -> None:
    """Move the finished report into place without ever replacing a report by accident: a new quarter's
    folder is claimed with an atomic ``mkdir`` (a second build of the same quarter finds it taken and stops);
    with ``force`` only an sqm report is replaced, moved aside first and deleted once the new one is in place."""
    backup = None
    if force and (final.exists() or final.is_symlink()):
        _check_replaceable(final, force)
        backup = final.parent / f".{final.name}.replaced-{os.getpid()}"
        final.rename(backup)
    made = False
    try:
        try:
            final.mkdir()  # atomic: fails when another build got there first
            made = True
        except FileExistsError:
            raise SQMReportError(f"a report for {final.name} appeared at {final} while this one was built "
                                 "(another build of the same quarter?); it was left as it is and this build was "
                                 "discarded. Use --force to replace it.") from None
        os.rename(tmp, final)  # replaces the empty folder just made, atomically
    except BaseException:  # any error or signal between the two renames: the old report goes back, whole
        if made and final.is_dir() and not any(final.iterdir()):
            final.rmdir()
        if backup is not None and not os.path.lexists(final):
            backup.rename(final)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
