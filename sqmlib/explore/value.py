"""The customer-value explorer: pick a quarter and an RFM segment → the segments' customers and lifetime value, the
segment's suggested action and its most valuable customers, as the customer-value page computes them."""
from __future__ import annotations


import pandas as pd

from .. import value
from ..errors import Problem, SQMDataError
from ..periods import quarter_bounds
from ..render import formats, labels, seed_plots
from ..render.messages import msg
from .base import ALL, View, _Choices

__all__ = ["ValueExplorer"]

SHOWN = 100  # customers listed for a segment, most valuable first
COLUMNS = ["segment", "segment_zh", "recency_days", "orders", "monetary", "p_alive", "clv", "suggested_action"]


class ValueExplorer(_Choices):
    """Who the valuable customers are: for a quarter's end (as the customer-value page, :func:`sqmlib.value.
    customer_table`), the segments of the common RFM map or of the Chinese eight-segment map with their customers
    and share of the lifetime value, and a segment's most valuable customers with its suggested action."""

    name = "value"
    title = "Customer value"

    def __init__(self, folder, *, freq: str = "W", engine: str = value.ENGINE, first: tuple | None = None):
        super().__init__()
        t = folder.transactions
        if t is None or not len(t):
            raise SQMDataError(str(folder.path), [Problem("missing_file", "no orders (transactions) in the data "
                                                                          "folder")])
        self.folder, self.freq, self.engine = folder, freq, engine
        self.quarters = sorted(t["order_time"].dt.to_period("Q").astype(str).unique())
        self.currency = getattr(folder.instrument, "currency", "") or ""
        if first is not None:  # a table already computed (the page's): (quarter, customers)
            self._cached(("table", first[0]), lambda: first[1])

    @classmethod
    def from_folder(cls, folder, **kwargs) -> "ValueExplorer":
        return cls(folder, **kwargs)

    @classmethod
    def from_analysis(cls, result, folder) -> "ValueExplorer":
        """The explorer of a :func:`sqmlib.value.run_value` result (its quarter's table is not computed again)."""
        return cls(folder, first=(result.quarter, result.customers))

    def customers(self, quarter: str) -> pd.DataFrame:
        """The customer table at the end of ``quarter`` (cached)."""
        return self._cached(("table", quarter), lambda: value.customer_table(
            self.folder, quarter_bounds(quarter)[1], freq=self.freq, engine=self.engine)[0])

    def defaults(self) -> dict:
        return {"quarter": self.quarters[-1], "segment": ALL}

    def options(self, segment=None, region=ALL) -> dict:
        return {"quarter": self.quarters,
                "segment": [ALL] + list(dict.fromkeys(name for _, name in value.SEGMENTS))
                + list(value.SEGMENTS_ZH.values())}

    def view(self, **selection) -> View:
        sel = self.adjust(selection)
        q, seg = sel["quarter"], sel["segment"]
        c = self.customers(q)
        column = "segment_zh" if seg in value.SEGMENTS_ZH.values() else "segment"
        table = value.segment_table(c, column)[["customers", "customers_share", "clv", "value_share", "orders",
                                                "monetary", "suggested_action"]].rename(
            columns={"orders": "mean_orders", "monetary": "avg_spend"})
        money = lambda x: formats.money(x, currency=self.currency or None)  # noqa: E731
        chosen = c if seg == ALL else c[c[column] == seg]
        listed = chosen.sort_values(["clv", "monetary"], ascending=False).head(SHOWN).reset_index()[
            [c.index.name or "customer_id"] + COLUMNS].astype({"recency_days": int, "orders": int})
        total = c["clv"].sum()
        if seg == ALL:
            note = msg("explore.value_note_all", "{n:,} customers with orders by the end of {quarter}; the {active:,} "
                       "active ones are worth {value} over the next {months} months", n=len(c), quarter=q,
                       active=int(c["active"].sum()), value=money(total), months=value.MONTHS)
        else:
            note = msg("explore.value_note", "{segment}: {n:,} customers, {share} of the lifetime value (mean "
                       "{mean}); suggested action: {action}", segment=labels.code(seg), n=len(chosen),
                       share=formats.share(chosen["clv"].sum() / total if total > 0 else 0),
                       mean=money(chosen["clv"].mean() if len(chosen) else 0),
                       action=labels.label(value.SEGMENT_ACTIONS[seg]))
        shown = table.rename(index=lambda k: labels.code(k))
        charts = ((("segments", q, column), lambda: seed_plots.segment_chart(shown)),)
        return View(sel, table.reset_index(), extra={"most_valuable": listed}, charts=charts, note=note)

    def _likely(self) -> list:
        return [lambda s=s: self._render(segment=s) for s in ("champions", "at_risk", "important_value")]
