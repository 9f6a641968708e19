"""Customers, interactions, standards and the management survey."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import SQMDataError
from ..instruments import ColumnSpec, Instrument
from ..instruments import load as load_instrument
from .checks import _check_errors_arg, _Checker, _convert, _finish
from .readers import read_table


# Customers, interactions, standards, management survey
# ---------------------------------------------------------------------------------------------------------
def _spec(name, type="text", required=True, **kw) -> ColumnSpec:
    return ColumnSpec(name=name, type=type, required=required, **kw)


CUSTOMER_COLUMNS = (
    _spec("customer_id", "id"),
    _spec("signup_date", "date"),
    _spec("plan", "category"),
    _spec("monthly_charges", "number", min=0),
    _spec("region", "category"),
    _spec("churned", "bool"),
    _spec("churn_date", "date", required=False),
)
INTERACTION_COLUMNS = (
    _spec("ticket_id", "id"),
    _spec("customer_id", "text"),
    _spec("opened_at", "date"),
    _spec("first_response_at", "date"),
    _spec("closed_at", "date"),
    _spec("channel", "category"),
    _spec("category", "category"),
    _spec("severity", "category"),
    _spec("first_contact_resolved", "bool"),
    _spec("department", "category"),
    _spec("text", "text", required=False),
    _spec("type", "category", required=False),
    _spec("region", "category", required=False),
    _spec("store", "category", required=False),
    _spec("wait_seconds", "number", required=False, min=0),
    _spec("error", "bool", required=False),
    # service recovery (optional): remedies offered and chosen, when the remedy was completed, the revisit
    _spec("remedy_offered", "text", required=False),
    _spec("remedy", "category", required=False),
    _spec("recovered_at", "date", required=False),
    _spec("revisit_at", "date", required=False),
    _spec("revisit_sat", "rating", required=False, min=1, max=5),
    _spec("complained_again", "bool", required=False),
)
STANDARD_COLUMNS = (
    _spec("kpi", "text"),
    _spec("severity", "category", required=False),
    _spec("target", "number"),
    _spec("unit", "category"),
    _spec("direction", "category"),
    _spec("description", "text", required=False),
)
DIRECTIONS = ("at_most", "at_least")


def _load_table(path, columns: tuple[ColumnSpec, ...], *, encoding=None, sheet=0, errors="raise",
                extra_checks=None, extra_specs: tuple[ColumnSpec, ...] = ()) -> pd.DataFrame:
    _check_errors_arg(errors)
    raw, src = read_table(path, encoding=encoding, sheet=sheet)
    chk = _Checker(src)
    specs = columns + extra_specs
    missing = [c.name for c in specs if c.required and c.name not in raw.columns]
    if missing:
        chk.add("missing_column", f"required columns are missing: {', '.join(missing)}")
    if len(raw) == 0:
        chk.add("empty", "the file has a header but no rows")
    if chk.problems:
        raise SQMDataError(src.path, chk.problems)
    code_counts: dict = {}
    out = {c.name: _convert(raw, c.name, c, chk, code_counts) for c in specs if c.name in raw.columns}
    known = set(out)
    result = pd.concat([pd.DataFrame(out, index=raw.index), raw[[c for c in raw.columns if c not in known]]],
                       axis=1)
    if extra_checks is not None:
        extra_checks(result, chk)
    meta = {"source": src.path, "format": src.format, "encoding": src.encoding, "sha256": src.sha256,
            "missing_codes": code_counts, "n_rows_file": int(len(raw))}
    return _finish(result, chk, errors, meta)


def load_customers(path, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load the customer table: ``customer_id``, ``signup_date``, ``plan``, ``monthly_charges``, ``region``,
    ``churned`` (yes/no, 1/0, true/false) and ``churn_date`` (blank while active).

    Besides the column checks, a churned customer needs a churn date, an active one must not have one, and
    no churn date may fall before the signup date. See :func:`load_survey` for ``errors``.
    """

    def checks(df, chk):
        if "churn_date" not in df:
            return
        churned = df["churned"].fillna(False).to_numpy(dtype=bool)
        has_date = df["churn_date"].notna().to_numpy()
        if (churned & ~has_date).any():
            chk.add("inconsistent", "churned customers without a churn_date", "churn_date", churned & ~has_date)
        if (~churned & has_date).any():
            chk.add("inconsistent", "customers not churned but with a churn_date", "churn_date",
                    ~churned & has_date)
        before = (df["churn_date"] < df["signup_date"]).to_numpy()
        if before.any():
            chk.add("inconsistent", "churn_date before signup_date", "churn_date", before)

    return _load_table(path, CUSTOMER_COLUMNS, encoding=encoding, sheet=sheet, errors=errors,
                       extra_checks=checks)


def load_interactions(path, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load interactions and complaints: one row a ticket (see ``data/README.md`` for the columns).

    A first response, closure, remedy or revisit before the ticket was opened, and a revisit before the
    remedy, are reported as problems.
    """

    def checks(df, chk):
        for col in ("first_response_at", "closed_at", "recovered_at", "revisit_at"):
            if col not in df:
                continue
            early = (df[col] < df["opened_at"]).to_numpy()
            if early.any():
                chk.add("inconsistent", f"{col} before opened_at (the complaint)", col, early,
                        [str(v) for v in df[col][early].head(3)])
        if "revisit_at" in df and "recovered_at" in df:
            early = (df["revisit_at"] < df["recovered_at"]).to_numpy()
            if early.any():
                chk.add("inconsistent", "revisit_at before recovered_at (the revisit follows the remedy)",
                        "revisit_at", early, [str(v) for v in df["revisit_at"][early].head(3)])

    return _load_table(path, INTERACTION_COLUMNS, encoding=encoding, sheet=sheet, errors=errors,
                       extra_checks=checks)


def load_standards(path, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load service standards: ``kpi``, optional ``severity``, ``target``, ``unit``, ``direction``
    (``at_most`` or ``at_least``) and ``description``."""

    def checks(df, chk):
        bad = ~df["direction"].isin(DIRECTIONS).to_numpy()
        if bad.any():
            chk.add("bad_value", f"direction must be one of {', '.join(DIRECTIONS)}", "direction", bad,
                    df["direction"][bad].tolist())
        key = df[["kpi"]].assign(severity=df.get("severity", pd.Series(None, index=df.index)).fillna(""))
        dup = key.duplicated(keep=False).to_numpy()
        if dup.any():
            chk.add("duplicate_id", "the same KPI and severity appear twice", "kpi", dup, df["kpi"][dup].tolist())

    return _load_table(path, STANDARD_COLUMNS, encoding=encoding, sheet=sheet, errors=errors,
                       extra_checks=checks)


def load_management(path, instrument: "str | Path | Instrument" = "servqual", *, encoding=None, sheet=0,
                    errors="raise") -> pd.DataFrame:
    """Load the management survey: one row a manager with ``manager_id`` and the manager's estimate of what
    customers expect for every item (``E01`` … on the instrument's scale); ``store`` and ``region`` optional.
    Used for gap 1 of the gaps model."""
    inst = load_instrument(instrument)
    item_specs = tuple(
        ColumnSpec(name=c, type="rating", required=True, min=inst.scale_min, max=inst.scale_max,
                   missing_codes=inst.missing_codes)
        for c in inst.item_columns("E" if "E" in inst.blocks else next(iter(inst.blocks)))
    )
    cols = (_spec("manager_id", "id"), _spec("store", "category", required=False),
            _spec("region", "category", required=False))
    return _load_table(path, cols, encoding=encoding, sheet=sheet, errors=errors, extra_specs=item_specs)


# ---------------------------------------------------------------------------------------------------------
