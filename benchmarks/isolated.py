"""A benchmark's measurement in a child process of its own, so that each peak memory is its own."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def in_child(module_file: str, function: str, *args) -> dict:
    """``function(*args)`` of the benchmark module ``module_file`` run in a fresh interpreter; the dict it returns
    (printed there as JSON after ``RESULT``)."""
    here = Path(module_file).resolve()
    code = (f"import json, sys; sys.path.insert(0, {str(here.parent)!r}); import {here.stem} as b; "
            f"print('RESULT', json.dumps(b.{function}(*{args!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = [ln[ln.index("RESULT "):] for ln in out.stdout.splitlines() if "RESULT " in ln]
    if not lines:
        raise RuntimeError(f"{here.stem}.{function}{args!r} printed no result: {out.stdout[-500:]} "
                           f"{out.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])
