"""Churn: features as of a date, a leakage guard, models with profit measures (EMPC), explanations, survival
and risk lists; :func:`run_churn` is the pipeline of the churn notebook."""
from __future__ import annotations

from .features import *  # noqa: F401,F403
from .profit import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .survival import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
