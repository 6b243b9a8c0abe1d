"""Colour arithmetic for priority badges: which text colour reads on a background, and
whether two backgrounds can be told apart.

Why: the administrator picks a badge's background; the desk must pick the text colour so the
name stays readable (WCAG 2.x AA asks 4.5:1 for normal text) and warn when no text colour can
reach that, or when two priorities would look alike in a queue.
"""

from __future__ import annotations

import math
import re

WHITE = "#ffffff"
NEAR_BLACK = "#111827"
AA_NORMAL_TEXT = 4.5
# CIE76 ΔE below which two badge colours are easy to mistake for each other at a glance.
DISTINCT_DELTA_E = 20.0

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def is_hex_colour(value: str) -> bool:
    return bool(_HEX.match(value))


def _channels(colour: str) -> tuple[float, float, float]:
    if not is_hex_colour(colour):
        raise ValueError(colour)
    return (int(colour[1:3], 16) / 255, int(colour[3:5], 16) / 255, int(colour[5:7], 16) / 255)


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    r, g, b = (_linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_colour(background: str) -> str:
    """White or near-black, whichever contrasts more with `background`."""
    return WHITE if contrast_ratio(background, WHITE) >= contrast_ratio(background, NEAR_BLACK) else NEAR_BLACK


def best_contrast(background: str) -> float:
    return contrast_ratio(background, text_colour(background))


def _lab(colour: str) -> tuple[float, float, float]:
    r, g, b = (_linear(c) for c in _channels(colour))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(first: str, second: str) -> float:
    """CIE76 colour difference: about 2 is just noticeable, above 20 clearly different hues."""
    a, b = _lab(first), _lab(second)
    return math.dist(a, b)
