"""Psychometrics: reliability statistics (α, ω), factor models (EFA/CFA by ML, FIML and WLSMV), latent and
ordinal estimation, measurement invariance and PLS path modelling — statistics only, no notebook pipeline."""
from __future__ import annotations

