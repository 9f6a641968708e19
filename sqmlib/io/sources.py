"""Where a table came from, and the checksum of a file."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls", ".parquet", ".pq", ".sav")
TRUE_WORDS = {"1", "1.0", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "0.0", "false", "f", "no", "n"}
QUARTER_RE = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]\s*([1-4])\s*$")


# ---------------------------------------------------------------------------------------------------------
# Reading raw tables
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from: path, format, encoding, extra header rows skipped and the file's SHA-256."""

    path: str
    format: str
    encoding: str | None
    header_rows: int  # rows above the first answer row (1 for a plain header, 3 for a Qualtrics export)
    sha256: str
    value_labels: Mapping[str, Mapping] = field(default_factory=dict)  # SPSS: column -> {code: label}
    user_missing: Mapping[str, tuple] = field(default_factory=dict)  # SPSS: column -> declared missing codes
    questions: Mapping[str, str] = field(default_factory=dict)  # Qualtrics: column -> its question's text
    rows: tuple[int, ...] | None = None  # a joined table: each row's number in the first file (else by position)
    cleaned: Mapping[str, Mapping] = field(default_factory=dict)  # column -> invisible characters removed (see readers)


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
