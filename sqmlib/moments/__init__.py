"""Sufficient statistics (moments) of survey data, computed where the data lives.

Reliability, gaps, relative importance and survey KPIs need only counts, sums and cross-products of the
answers, per segment. A :class:`Moments` object holds them for every group of the ``by`` columns (say quarter ×
region); groups are pooled by adding, so one pass over the data answers every quarter, region and company-wide
question. Three engines fill the same object:

- :func:`from_pandas`: numpy on a DataFrame in memory;
- :func:`from_duckdb`: one SQL aggregation in DuckDB over Parquet or CSV files (streams: data larger than
  memory is fine);
- :func:`from_spark`: the same SQL in Spark.

What is aggregated is described by a :class:`MomentSpec`: derived row-level columns (gap scores, dimension
means, KPI indicators, respondent weights), *sets* of columns whose pairwise (or listwise) counts, sums and
cross-products are kept, and *pairs* (P, E) whose paired differences are summarised. :func:`survey_spec`
builds the spec a SERVQUAL-type instrument needs; :func:`survey_moments` runs it on any engine.

For a set with shifted values ``y = x − c`` (c: the scale midpoint, which keeps the sums small), ``N_ij`` counts
the rows answering both i and j, ``S_ij`` sums ``y_i`` over those rows and ``Q_ij`` sums ``y_i·y_j``; the
pairwise covariance is ``(Q_ij − S_ij·S_ji/N_ij)/(N_ij − 1)``, as pandas and R's ``cov(use="pairwise")``.
Rank statistics (Wilcoxon, medians) cannot be had from moments; functions that return them say so.

Its modules, lowest first: spec, aggregate, survey; the package re-exports their names.
"""
from __future__ import annotations

from .spec import *  # noqa: F401,F403
from .aggregate import *  # noqa: F401,F403
from .survey import *  # noqa: F401,F403
from .engines import ENGINES, Dialect, Table, check_engine, open_table  # noqa: F401  (re-exported)
