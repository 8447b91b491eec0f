"""Colours and sizes shared by every .kv file: dark navy on white, white on blue for the
main buttons (contrast ratios above 7:1), nothing smaller than 24sp to read or 48dp to
touch."""

from __future__ import annotations

Rgba = tuple[float, float, float, float]


def _rgb(hex_code: str) -> Rgba:
    value = int(hex_code.lstrip("#"), 16)
    return ((value >> 16) / 255, ((value >> 8) & 0xFF) / 255, (value & 0xFF) / 255, 1.0)


WHITE = _rgb("#ffffff")
PAGE = _rgb("#ffffff")
TEXT = _rgb("#0b1f3a")  # dark navy
PRIMARY = _rgb("#1d4e89")
PRIMARY_DOWN = _rgb("#123459")
SECONDARY = _rgb("#e6edf6")
SECONDARY_DOWN = _rgb("#c4d3e6")
DISABLED_BG = _rgb("#d3d7dd")
DISABLED_FG = _rgb("#3f4753")
ALERT = _rgb("#a4161a")  # dark red on white, for wrong-code feedback
NOTICE_BG = _rgb("#fff4d6")  # pale amber box behind warnings
VEIL = (0.0, 0.0, 0.0, 0.6)

BODY_SP = 24
TITLE_SP = 26
BIG_SP = 32
TOUCH_DP = 48  # smallest touch target
BUTTON_DP = 56


def button_bg(kind: str, state: str, disabled: bool) -> Rgba:
    """Background of an :class:`ActionButton` of ``kind`` (primary, secondary, header)."""
    if disabled:
        return DISABLED_BG
    down = state == "down"
    if kind == "primary":
        return PRIMARY_DOWN if down else PRIMARY
    if kind == "header":
        return SECONDARY_DOWN if down else WHITE
    return SECONDARY_DOWN if down else SECONDARY


def button_fg(kind: str) -> Rgba:
    return WHITE if kind == "primary" else TEXT
