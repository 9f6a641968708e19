"""Complaints (Pareto, categories) and the three-level maturity."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, NamedTuple

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError


# ---------------------------------------------------------------------------------------------------------
# complaints
# ---------------------------------------------------------------------------------------------------------
def pareto(values: pd.Series, top: int = 3) -> pd.DataFrame:
    """Counts per category, share and cumulative share, largest first; ``top`` flags the top categories."""
    v = values.fillna("unknown").replace("", "unknown")
    c = v.value_counts()
    out = pd.DataFrame({"count": c, "share": c / c.sum()})
    out["cumulative_share"] = out["share"].cumsum()
    out["top"] = np.arange(len(out)) < top
    out.index.name = values.name or "category"
    return out


@dataclass
class CategoryClassifier:
    """TF-IDF (word 1–2-grams; character 1–3-grams for Chinese text) and logistic regression, trained on
    tickets whose category is known, to fill the missing ones. ``accuracy`` is the 5-fold cross-validated
    accuracy on the labelled tickets; ``confusion`` counts, for every true category (rows), the categories the
    cross-validated predictions gave (columns), and ``recall`` is each true category's share predicted right."""

    accuracy: float = np.nan
    accuracy_sd: float = np.nan
    model: object = field(default=None, repr=False)
    confusion: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def recall(self) -> pd.Series:
        c = self.confusion
        return pd.Series(np.diag(c.to_numpy()) / c.sum(axis=1).to_numpy(), index=c.index, name="recall")

    def most_confused(self, k: int = 3) -> list[tuple[str, str, int]]:
        """The ``k`` largest off-diagonal cells: (true category, predicted category, tickets)."""
        c = self.confusion.copy()
        np.fill_diagonal(c.values, 0)
        s = c.stack()
        s = s[s > 0].sort_values(ascending=False, kind="stable").head(k)
        return [(str(a), str(b), int(v)) for (a, b), v in s.items()]

    def fit(self, text: pd.Series, category: pd.Series, seed: int = 0) -> "CategoryClassifier":
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
        from sklearn.pipeline import make_pipeline

        known = category.notna() & (category.astype(str) != "") & text.notna()
        if known.sum() < 20:
            raise SQMDataError("interactions", [Problem("too_few_rows", "fewer than 20 labelled tickets to learn from")])
        sample = "".join(text[known].astype(str).head(500))
        cjk = sum("\u3400" <= ch <= "\u9fff" for ch in sample) / max(len(sample), 1)
        # Chinese is written without spaces: character 1–3-grams stand in for words
        words = dict(analyzer="char", ngram_range=(1, 3), min_df=1) if cjk > 0.3 else dict(ngram_range=(1, 2), min_df=1)
        cv = StratifiedKFold(5, shuffle=True, random_state=seed)
        x, y = text[known].to_numpy(), category[known].astype(str).to_numpy()
        # the texts are cut into terms once: a fold's TF-IDF is its training rows' terms (the vocabulary a
        # TfidfVectorizer fitted on them would keep, in the same sorted order) weighted by their document
        # frequency there, so each fold's model sees exactly the matrix a pipeline refitted per fold would
        counts = CountVectorizer(**words).fit_transform(x).tocsr()
        pred = np.empty(len(y), dtype=object)
        scores = []
        for train, test in cv.split(x, y):  # as cross_val_score, keeping the predictions for the confusion table
            kept = np.flatnonzero(counts[train].getnnz(axis=0))
            tfidf = TfidfTransformer()
            model = LogisticRegression(max_iter=2000).fit(tfidf.fit_transform(counts[train][:, kept]), y[train])
            pred[test] = model.predict(tfidf.transform(counts[test][:, kept]))
            scores.append(float(np.mean(pred[test] == y[test])))
        self.accuracy, self.accuracy_sd = float(np.mean(scores)), float(np.std(scores, ddof=1))
        labels = sorted(set(y))
        c = pd.crosstab(pd.Categorical(y, labels), pd.Categorical(pred.astype(str), labels), dropna=False)
        self.confusion = pd.DataFrame(c.to_numpy(), index=pd.Index(labels, name="true", dtype=object),
                                      columns=pd.Index(labels, name="predicted", dtype=object))
        self.model = make_pipeline(TfidfVectorizer(**words), LogisticRegression(max_iter=2000)).fit(
            text[known], category[known])
        return self

    def fill(self, text: pd.Series, category: pd.Series) -> pd.DataFrame:
        """Categories with the missing ones predicted: columns ``category``, ``predicted`` (bool) and
        ``confidence`` (the predicted class's probability; 1 for known categories)."""
        missing = category.isna() | (category.astype(str) == "")
        out = pd.DataFrame({"category": category.where(~missing), "predicted": missing, "confidence": 1.0},
                           index=category.index)
        if missing.any():
            proba = self.model.predict_proba(text[missing].fillna(""))
            out.loc[missing, "category"] = self.model.classes_[proba.argmax(axis=1)]
            out.loc[missing, "confidence"] = proba.max(axis=1)
        return out


# ---------------------------------------------------------------------------------------------------------
# three-level maturity
# ---------------------------------------------------------------------------------------------------------
DEFAULT_RUBRIC = {
    # level 1, basic standards: are the rules followed? (the error-rate bar sits above the 0.5 % standard
    # because a unit's rate over a quarter's few hundred tickets is noisy)
    "standards_share_meeting": (1, ">=", 0.70, "mean share of cases meeting the ticket standards"),
    "error_rate": (1, "<=", 0.01, "service errors per interaction"),
    # level 2, process optimisation: first-contact resolution, speed, an improving (not worsening) trend
    "fcr": (2, ">=", 0.75, "first-contact resolution"),
    "response_h_median": (2, "<=", 8.0, "median first response to complaints (hours)"),
    "complaints_per_1000_change": (2, "<=", 0.15, "relative change in complaints per 1,000 customers since the previous quarter"),
    # level 3, value co-creation: loyalty, satisfaction, retention
    "nps": (3, ">=", 15.0, "NPS"),
    "csat": (3, ">=", 0.35, "CSAT (top-2-box)"),
    "churn_rate": (3, "<=", 0.07, "customers lost in the quarter"),
}


class Maturity(NamedTuple):
    """Maturity ``levels`` per unit and the ``evidence`` in long form."""

    levels: pd.DataFrame
    evidence: pd.DataFrame


def maturity(evidence: pd.DataFrame, rubric: Mapping[str, tuple] = DEFAULT_RUBRIC) -> Maturity:
    """Place each unit (row of ``evidence``, one column per rubric criterion) at maturity level 0–3.

    A unit reaches level L when it meets every criterion of levels 1..L (a missing value does not count as
    met). Returns (per unit: level and the number of criteria met per level; the evidence in long form:
    unit, level, criterion, description, value, rule, met).
    """
    long = []
    for unit, row in evidence.iterrows():
        for crit, (level, op, target, desc) in rubric.items():
            v = row.get(crit, np.nan)
            met = bool(np.isfinite(v) and (v >= target if op == ">=" else v <= target)) if v is not None else False
            long.append({"unit": unit, "level": level, "criterion": crit, "description": desc, "value": v,
                         "rule": f"{op} {target:g}", "met": met})
    ev = pd.DataFrame(long)
    summary = []
    for unit, g in ev.groupby("unit", sort=False):
        reached = 0
        for level in (1, 2, 3):
            if g[g["level"] == level]["met"].all():
                reached = level
            else:
                break
        summary.append({"unit": unit, "level": reached,
                        **{f"level{l}_met": f"{int(g[g['level'] == l]['met'].sum())}/{int((g['level'] == l).sum())}"
                           for l in (1, 2, 3)}})
    return Maturity(pd.DataFrame(summary).set_index("unit"), ev)


def maturity_evidence(attainment: pd.DataFrame, tickets_now: pd.DataFrame, survey_now: pd.DataFrame,
                      tickets_before: pd.DataFrame | None = None) -> pd.DataFrame:
    """The evidence :func:`maturity` reads, one row per unit, from a quarter's KPIs.

    Parameters
    ----------
    attainment : DataFrame
        :func:`sqmlib.gaps.standard_attainment` of the quarter (column ``unit``).
    tickets_now, tickets_before : DataFrame
        :func:`ticket_kpis` of the quarter and of the one before, indexed by unit (``before`` optional: the
        change in complaints per 1,000 customers is missing without it).
    survey_now : DataFrame
        :func:`survey_kpis` of the quarter, indexed by unit.
    """
    change = (tickets_now["complaints_per_1000"] / tickets_before["complaints_per_1000"] - 1
              if tickets_before is not None else np.nan)
    return pd.DataFrame({
        "standards_share_meeting": attainment[attainment["kpi"] != "error_rate"].groupby("unit")["share_meeting"].mean(),
        "error_rate": attainment[attainment["kpi"] == "error_rate"].set_index("unit")["value"],
        "fcr": tickets_now["fcr"], "response_h_median": tickets_now["response_h_median"],
        "complaints_per_1000_change": change,
        "nps": survey_now["nps"], "csat": survey_now["csat"], "churn_rate": tickets_now["churn_rate"],
    })
