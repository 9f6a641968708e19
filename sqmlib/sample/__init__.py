"""The bundled sample data (sqm synth) with known ground truth, and platform exports of survey shapes.

Its documented path is ``sqmlib.synth``."""
from __future__ import annotations

from .design import *  # noqa: F401,F403
from .generate import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .folders import *  # noqa: F401,F403
