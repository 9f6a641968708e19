"""Rendering: the language, labels and their catalogue, number formats, fonts, charts, safe outputs and the
notebook display."""
from __future__ import annotations

