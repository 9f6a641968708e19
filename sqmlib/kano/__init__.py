"""The KANO questionnaire: must-be, one-dimensional and attractive requirements (必备项 / 加分项 / 惊喜项).

``kano_table(functional, dysfunctional)`` and ``kano_coefficients(counts)`` give, per attribute, the counts of
the six categories, the category, its strength, Timko's Better/Worse and Fong's test; :func:`run_kano` is the
pipeline the driver page shows.
"""
from .tables import (
    CATEGORIES,
    NAMES,
    answer_pairs,
    by_segment,
    classify,
    continuous,
    counts,
    disagreements,
    fong_differs,
    half_answered,
    kano_coefficients,
    kano_table,
)

__all__ = ["CATEGORIES", "NAMES", "answer_pairs", "by_segment", "classify", "continuous", "counts", "disagreements",
           "fong_differs", "half_answered", "kano_coefficients", "kano_table"]
