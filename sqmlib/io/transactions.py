"""Purchases and retention campaigns: ``transactions.csv`` and ``campaigns.csv``.

``transactions`` (one row an order): ``customer_id``, ``order_id``, ``order_time``, ``amount`` (negative: a refund
line), ``channel``, ``store`` and ``refunded`` (optional, yes/no: the order was refunded in full).
``campaigns`` (one row a customer of a retention campaign): ``customer_id``, ``campaign``, ``treated`` (yes/no:
contacted, or held out at random), ``sent_at`` and ``window_days`` (how long after the contact a departure
counts). :func:`transaction_anomalies` lists what the data audit shows (refunds, negative amounts, orders entered
twice, dates after the data's end).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError
from .tables import _load_table, _spec

TRANSACTION_COLUMNS = (
    _spec("customer_id", "text"),
    _spec("order_id", "text"),
    _spec("order_time", "date"),
    _spec("amount", "number"),
    _spec("channel", "category", required=False),
    _spec("store", "category", required=False),
    _spec("refunded", "bool", required=False),
)
CAMPAIGN_COLUMNS = (
    _spec("customer_id", "text"),
    _spec("campaign", "text"),
    _spec("treated", "bool"),
    _spec("sent_at", "date"),
    _spec("window_days", "number", min=1),
)


def load_transactions(path, *, encoding=None, sheet=0) -> pd.DataFrame:
    """Load the orders (see the module's description); every problem of the file at once."""
    return _load_table(path, TRANSACTION_COLUMNS, encoding=encoding, sheet=sheet)


def load_campaigns(path, *, encoding=None, sheet=0) -> pd.DataFrame:
    """Load a retention campaign's customers; a customer listed twice in one campaign is a problem."""

    def checks(df, chk):
        dup = df.duplicated(["campaign", "customer_id"], keep=False).to_numpy()
        if dup.any():
            chk.add("duplicate_id", "a customer listed twice in one campaign", "customer_id", dup,
                    df["customer_id"][dup].tolist())

    return _load_table(path, CAMPAIGN_COLUMNS, encoding=encoding, sheet=sheet, extra_checks=checks)


def check_value_tables(transactions, campaigns, customers, files: dict) -> None:
    """A campaign's customers must be customers of ``customers.csv`` (their departures are its outcome); orders
    may come from customers the table does not hold (they are valued, with no contract to end them)."""
    if customers is None:
        return
    known = set(customers["customer_id"])
    for name, df in (("campaigns", campaigns),):
        if df is None:
            continue
        bad = ~df["customer_id"].isin(known).to_numpy()
        if bad.any():
            pos = np.flatnonzero(bad)
            raise SQMDataError(str(files.get(name, name)), [Problem(
                "unknown_customer", "customers not in customers.csv", "customer_id",
                tuple(dict.fromkeys(df["customer_id"][bad]))[:6], tuple(int(p) + 2 for p in pos[:5]), int(len(pos)))])


def transaction_anomalies(transactions: pd.DataFrame, data_end=None) -> pd.DataFrame:
    """What the data audit lists about orders: ``negative_amount`` (refund lines), ``refunded``, ``duplicate_order``
    (one order id twice) and ``future_date`` (after ``data_end``); one row per order and reason."""
    t = transactions
    out = [t[t["amount"] < 0].assign(kind="negative_amount")]
    if "refunded" in t:
        out.append(t[t["refunded"].fillna(False).astype(bool)].assign(kind="refunded"))
    out.append(t[t.duplicated("order_id", keep=False)].assign(kind="duplicate_order"))
    if data_end is not None:
        out.append(t[t["order_time"] > pd.Timestamp(data_end)].assign(kind="future_date"))
    return pd.concat(out)[["kind", "customer_id", "order_id", "order_time", "amount"]].reset_index(drop=True)
