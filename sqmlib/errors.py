"""The project's own error types.

Every problem with input data raises :class:`SQMDataError`, which names the file, the column, the offending
values and the first row numbers, and lists every problem found in the file at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

MAX_ROWS_SHOWN = 5
MAX_VALUES_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Attributes
    ----------
    kind : str
        Short machine-readable kind, e.g. ``"out_of_range"``, ``"missing_column"``, ``"duplicate_id"``.
    message : str
        What is wrong, in words.
    column : str or None
        The column concerned (``None`` for whole-file problems).
    values : tuple
        A few of the offending values.
    rows : tuple of int
        Row numbers as a spreadsheet shows them (the header is row 1, the first answer row 2).
    n_rows : int
        How many rows have the problem in all.
    """

    kind: str
    message: str
    column: str | None = None
    values: tuple = ()
    rows: tuple[int, ...] = ()
    n_rows: int = 0

    def describe(self) -> str:
        parts = []
        if self.column is not None:
            parts.append(f"column {self.column!r}: ")
        parts.append(self.message)
        if self.values:
            shown = ", ".join(repr(v) for v in self.values[:MAX_VALUES_SHOWN])
            more = " …" if len(self.values) > MAX_VALUES_SHOWN else ""
            parts.append(f" (values {shown}{more})")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:MAX_ROWS_SHOWN])
            more = f" … {self.n_rows} rows in all" if self.n_rows > MAX_ROWS_SHOWN else ""
            parts.append(f" at row{'s' if len(self.rows) > 1 else ''} {shown}{more}")
        return "".join(parts)


MAX_COLUMNS_SHOWN = 6


def summarise(problems: Sequence[Problem]) -> list[str]:
    """One line per kind of problem: a problem found the same way in several columns ("answers that are not
    numbers" in 20 item columns) is one line naming the columns, with the values and rows of the first, so that
    every kind of problem reaches a console that shows only the first lines."""
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.kind, p.message, p.column is None), []).append(p)
    lines = []
    for same in groups.values():
        if len(same) == 1 or same[0].column is None:
            lines.extend(p.describe() for p in same)
            continue
        names = ", ".join(repr(p.column) for p in same[:MAX_COLUMNS_SHOWN])
        more = " …" if len(same) > MAX_COLUMNS_SHOWN else ""
        values = list(dict.fromkeys(v for p in same for v in p.values))
        first = Problem(same[0].kind, same[0].message, None, tuple(values), same[0].rows, same[0].n_rows)
        detail = first.describe()
        if first.rows:
            detail = detail.replace(" at row", f" ({same[0].column!r}: at row", 1) + ")"
        lines.append(f"{len(same)} columns ({names}{more}): {detail}")
    return lines


class SQMError(Exception):
    """Base class of the project's errors."""


class SQMDataError(SQMError, ValueError):
    """Input data that cannot be used as it is.

    Parameters
    ----------
    path : str
        The file (or table name) the problems were found in.
    problems : sequence of Problem
        Every problem found, so that one run shows them all.
    """

    def __init__(self, path: str, problems: Sequence[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(kind="error", message=problems)]
        self.path = str(path)
        self.problems = tuple(problems)
        super().__init__(self._format())

    def _format(self) -> str:
        n = len(self.problems)
        head = f"{self.path}: {n} problem{'s' if n != 1 else ''} found"
        return head + "".join(f"\n  - {line}" for line in summarise(self.problems))

    def to_frame(self):
        """The problems as a tidy DataFrame (one row a problem)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "file": self.path,
                    "column": p.column,
                    "kind": p.kind,
                    "message": p.message,
                    "n_rows": p.n_rows,
                    "first_rows": ", ".join(map(str, p.rows[:MAX_ROWS_SHOWN])),
                    "values": ", ".join(map(repr, p.values[:MAX_VALUES_SHOWN])),
                }
                for p in self.problems
            ],
            columns=["file", "column", "kind", "message", "n_rows", "first_rows", "values"],
        )


class SQMReportError(SQMError, RuntimeError):
    """A report could not be built (a notebook failed, or the output folder already exists)."""


class SQMArgumentError(SQMError, ValueError):
    """A mistake in the arguments of a call (an unknown option, a parameter out of its range): not a problem
    in the data, which raises :class:`SQMDataError`."""


class SQMWarning(UserWarning):
    """The project's own warnings (a statistic that is unreliable on these data, a row left out, a model that
    did not converge). Notebooks show these; explorers silence only these."""


def raise_problems(source: str, problems: Sequence[Problem]) -> None:
    """Raise every problem found at once: :class:`SQMArgumentError` when any of them is a mistake in the call
    (kind ``"bad_argument"``), else :class:`SQMDataError`. Does nothing without problems."""
    if not problems:
        return
    wrong = [p for p in problems if p.kind == "bad_argument"]
    if wrong:
        raise SQMArgumentError("; ".join(p.message for p in wrong))
    raise SQMDataError(source, problems)
