"""Colours and sizes shared by every .kv file: dark navy on white, white on blue for the
main buttons (contrast ratios of at least 7:1 for every text, tests/unit/test_theme.py),
nothing smaller than 24sp to read or 48dp to touch, and 12dp (2 mm on the 7-inch panel)
between two touch targets.

Two text steps, chosen by the patient with the header's "Aa" button (``Flow.text_size``):
"normal" and "large", where a capital H of the body text is at least 0.7° at 50 cm on
the 800x480 7-inch panel (EN 301 549 §5.1.4: 32.1 px of cap height; Roboto's H is 0.71
of the font size, hence 46 px). Every screen reads its sizes through the functions below.
"""

from __future__ import annotations

Rgba = tuple[float, float, float, float]

NORMAL, LARGE = "normal", "large"
TEXT_SIZES = (NORMAL, LARGE)


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
DISABLED_FG = _rgb("#2f3640")  # was #3f4753: 6.96:1 on DISABLED_BG, below 7:1
ALERT = _rgb("#a4161a")  # dark red on white, for wrong-code feedback
NOTICE_BG = _rgb("#fff4d6")  # pale amber box behind warnings
VEIL = (0.0, 0.0, 0.0, 0.6)

# the normal step (today's sizes), in sp / dp
BODY_SP = 24
TITLE_SP = 26
LEAD_SP = 28  # the first line of a screen (welcome, insert card, error)
BIG_SP = 32
HUGE_SP = 36  # the welcome screen's "Ouvrir mon DMP"
TOUCH_DP = 48  # smallest touch target
BUTTON_DP = 56
GAP_DP = 12  # between two touch targets: 2 mm at 0.1905 mm/px (EN 301 549 §5.5.x, item 5)

# the large step: every patient text's capital H at least 32.1 px (0.7° at 50 cm)
_LARGE_SP = {BODY_SP: 46, TITLE_SP: 46, LEAD_SP: 48, BIG_SP: 50, HUGE_SP: 54}
_LARGE_DP = {TOUCH_DP: 64, BUTTON_DP: 72}


def text_sp(normal_sp: float, step: str) -> float:
    """The font size (sp) that stands for ``normal_sp`` at text ``step``."""
    if step != LARGE:
        return normal_sp
    return _LARGE_SP.get(int(normal_sp), max(normal_sp * 46 / 24, 46))


def body_sp(step: str) -> float:
    return text_sp(BODY_SP, step)


def title_sp(step: str) -> float:
    return text_sp(TITLE_SP, step)


def lead_sp(step: str) -> float:
    return text_sp(LEAD_SP, step)


def big_sp(step: str) -> float:
    return text_sp(BIG_SP, step)


def huge_sp(step: str) -> float:
    return text_sp(HUGE_SP, step)


def touch_dp(step: str) -> float:
    return _LARGE_DP[TOUCH_DP] if step == LARGE else TOUCH_DP


def button_dp(step: str) -> float:
    return _LARGE_DP[BUTTON_DP] if step == LARGE else BUTTON_DP


def other_step(step: str) -> str:
    """What the header's "Aa" button switches to."""
    return NORMAL if step == LARGE else LARGE


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


# --- contrast (WCAG 2.x) ----------------------------------------------------------------


def luminance(colour: Rgba) -> float:
    """Relative luminance of an opaque sRGB colour."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    r, g, b, _a = colour
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(a: Rgba, b: Rgba) -> float:
    """The WCAG contrast ratio of two opaque colours, from 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# every text colour on every background it is drawn on (tests/unit/test_theme.py)
TEXT_PAIRS: dict[str, tuple[Rgba, Rgba]] = {
    "text on page": (TEXT, PAGE),
    "text on notice": (TEXT, NOTICE_BG),
    "alert on page": (ALERT, PAGE),
    "white on primary (buttons, header)": (WHITE, PRIMARY),
    "white on primary pressed": (WHITE, PRIMARY_DOWN),
    "text on secondary buttons": (TEXT, SECONDARY),
    "text on secondary pressed": (TEXT, SECONDARY_DOWN),
    "text on header buttons": (TEXT, WHITE),
    "disabled text on disabled buttons": (DISABLED_FG, DISABLED_BG),
    "keyboard hint on its field": (DISABLED_FG, WHITE),
    "primary text on page (admin message)": (PRIMARY, PAGE),
}
