"""The sample written as a data folder, in English or Chinese."""
from __future__ import annotations

from .data import save
import hashlib
import os
import shutil
import tempfile
from pathlib import Path


from ..paths import REPORTS_DIR, SAMPLE_DIR
from .design import (
    SynthConfig,
)
from .generate import generate


def generator_fingerprint() -> str:
    """A short hash of the generator's source: a cached sample made by another version is not used."""
    h = hashlib.sha256()
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:10]


def sample_folder(language: str = "en") -> Path:
    """The sample data folder in a language: the bundled ``data/sample`` for English; for Chinese, the same
    sample generated with ``language="zh"`` into ``reports/.cache/sample-zh-<seed>-<generator hash>`` on first use (about two
    seconds; written to a temporary folder and renamed, so a half-written folder is never used)."""
    if language == "en":
        return SAMPLE_DIR
    if language != "zh":
        raise ValueError(f"language must be en or zh, got {language!r}")
    cfg = SynthConfig(language="zh")
    target = REPORTS_DIR / ".cache" / f"sample-zh-{cfg.seed}-{generator_fingerprint()}"
    if (target / "truth.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sample-zh-", dir=target.parent))
    try:
        save(generate(cfg), tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process was faster: use its folder
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


