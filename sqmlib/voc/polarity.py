"""Document polarity learnt from labels or star ratings: character n-gram TF-IDF and a logistic regression.

:func:`fit_polarity` cross-validates the model (stratified folds; its accuracy with a Wilson interval), then fits
it on every labelled text with its probabilities calibrated (Platt scaling on cross-validation folds,
scikit-learn's ``CalibratedClassifierCV``). Characters, not words, so Chinese needs no segmentation and typos
cost little; word boundaries are kept for English (``char_wb``). :func:`lexicon_accuracy` scores the lexicon's
document polarity on the same labels, for comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from .aspects import Analyser
from .text import normalise

__all__ = ["PolarityModel", "fit_polarity", "ratings_to_labels", "wilson", "lexicon_accuracy", "MIN_LABELS"]

MIN_LABELS = 200  # labelled texts needed (both classes) before a model replaces the lexicon


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return (np.nan, np.nan)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (float(c - h), float(c + h))


def ratings_to_labels(ratings) -> pd.Series:
    """Star ratings (1–5) to polarity labels: 1–2 ``negative``, 4–5 ``positive``, 3 and missing left out (NA)."""
    r = pd.to_numeric(pd.Series(ratings), errors="coerce")
    return pd.Series(np.where(r <= 2, "negative", np.where(r >= 4, "positive", None)), index=r.index, dtype=object)


def _vectoriser(lang: str):
    from sklearn.feature_extraction.text import TfidfVectorizer

    if lang == "zh":
        return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=300_000,
                               dtype=np.float32)
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                           max_features=300_000, dtype=np.float32)


def _pipeline(lang: str, C: float, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(_vectoriser(lang), LogisticRegression(C=C, max_iter=2000, class_weight="balanced",
                                                               random_state=seed))


@dataclass(frozen=True)
class PolarityModel:
    """A fitted polarity model: ``predict`` gives the labels as given, ``predict_proba`` one column per class of
    ``classes_``; ``cv_accuracy`` with ``cv_interval`` (95 %, Wilson) over ``n`` texts in ``folds`` folds."""

    pipeline: object
    classes_: np.ndarray
    lang: str
    cv_accuracy: float
    cv_interval: tuple
    n: int
    folds: int

    def predict_proba(self, texts) -> np.ndarray:
        return self.pipeline.predict_proba([normalise(t) for t in texts])

    def predict(self, texts) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(texts), axis=1)]


def fit_polarity(texts, labels, *, lang: str = "zh", folds: int = 5, C: float = 4.0, seed: int = 0,
                 calibrate: bool = True) -> PolarityModel:
    """Learn document polarity from labelled texts (labels as given, e.g. ``negative``/``positive``; missing labels
    left out); at least :data:`MIN_LABELS` labelled texts with both classes (else :class:`SQMArgumentError`)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if lang not in ("zh", "en"):
        raise SQMArgumentError("lang must be 'zh' or 'en'")
    t = pd.Series(list(texts), dtype=object)
    y = pd.Series(list(labels), dtype=object)
    if len(t) != len(y):
        raise SQMArgumentError("one label per text")
    keep = y.notna().to_numpy()
    t, y = t[keep].map(normalise).to_numpy(), y[keep].astype(str).to_numpy()
    classes, counts = np.unique(y, return_counts=True)
    if len(t) < MIN_LABELS or len(classes) < 2 or counts.min() < folds:
        raise SQMArgumentError(f"a polarity model needs at least {MIN_LABELS} labelled texts of two or more classes "
                               f"(here {len(t)}; classes {dict(zip(classes, counts.tolist()))})")
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(_pipeline(lang, C, seed), t, y, cv=cv)
    right = int((pred == y).sum())
    if calibrate:
        model = CalibratedClassifierCV(_pipeline(lang, C, seed), method="sigmoid", cv=3).fit(t, y)
    else:
        model = _pipeline(lang, C, seed).fit(t, y)
    return PolarityModel(model, np.asarray(model.classes_), lang, right / len(y), wilson(right, len(y)), len(y), folds)


def lexicon_accuracy(texts, labels, *, positive: str = "positive", negative: str = "negative", lexicon=None,
                     scores=None) -> dict:
    """The lexicon's document polarity (the sign of its score) against labels: accuracy over the texts it scores
    (``covered``), with a Wilson interval; a text it scores 0 counts as not covered. ``scores``: the texts' lexicon
    scores when they are already known (else computed)."""
    y = pd.Series(list(labels), dtype=object)
    keep = y.isin([positive, negative]).to_numpy()
    if scores is None:
        s = Analyser(lexicon).scores([x for x, k in zip(texts, keep) if k])
    else:
        s = np.asarray(scores, dtype=float)[keep]
    y = y[keep].to_numpy()
    covered = s != 0
    guess = np.where(s > 0, positive, negative)
    right = int(((guess == y) & covered).sum())
    n = int(covered.sum())
    return {"accuracy": right / n if n else np.nan, "interval": wilson(right, n), "covered": n / len(y) if len(y) else
            np.nan, "n": int(len(y))}
