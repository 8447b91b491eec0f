"""The accountant's summary page: an A4 fpdf2 page with DejaVu (or core Helvetica),
and the few drawing helpers its blocks share (:mod:`kiosk.billing.summary_pdf`)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from kiosk.billing.french import euros

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
LEFT, WIDTH, BOTTOM = 15.0, 180.0, 282.0
ROW = 4.6
INK, GREY, RULE = (30, 30, 30), (110, 110, 110), (200, 200, 200)
BLUE, GREEN, RED, AMBER = (46, 94, 170), (20, 120, 60), (190, 20, 20), (170, 95, 0)
Color = tuple[int, int, int]
# Core fonts only know Latin-1: these become plain ASCII when DejaVu is missing.
_LATIN1 = str.maketrans({"—": "-", "–": "-", "’": "'", "…": "...", "€": "EUR", "\u202f": " "})


class Page:
    def __init__(self, font_dir: Path) -> None:
        self.pdf = FPDF(orientation="P", unit="mm", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(LEFT, LEFT, LEFT)
        self.pdf.add_page()
        regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            self.pdf.add_font("DejaVu", "", str(regular))
            self.pdf.add_font("DejaVu", "B", str(bold))
            self.family, self.euro = "DejaVu", "€"
        else:
            # No DejaVu TTF: fall back to core Helvetica, which has no € glyph (Latin-1
            # only), so amounts are written "1 244,00 EUR" and dashes become hyphens.
            self.family, self.euro = "helvetica", "EUR"

    def money(self, cents: int) -> str:
        return euros(cents, self.euro)

    def clean(self, text: str) -> str:
        if self.family == "DejaVu":
            return text
        return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    def fit(self, text: str, width: float, size: float, bold: bool = False) -> str:
        """Sets a font size at which ``text`` fits ``width`` (down to 5.5 pt, then cut)."""
        text = self.clean(text)
        style = "B" if bold else ""
        while True:
            self.pdf.set_font(self.family, style, size)
            if self.pdf.get_string_width(text) <= width - 1 or size <= 5.5:
                break
            size -= 0.5
        while len(text) > 1 and self.pdf.get_string_width(text) > width - 1:
            text = text[:-2] + "…" if self.family == "DejaVu" else text[:-4] + "..."
        return text

    def put(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        size: float = 8.5,
        bold: bool = False,
        align: str = "L",
        color: Color = INK,
    ) -> None:
        fitted = self.fit(text, w, size, bold)
        self.pdf.set_text_color(*color)
        self.pdf.set_xy(x, y)
        self.pdf.cell(w, h, fitted, align=align)

    def para(self, y: float, text: str, size: float, color: Color, lines: int = 3) -> float:
        """``text`` wrapped on at most ``lines`` lines of the page's width; returns the y
        under it."""
        self.pdf.set_font(self.family, "", size)
        self.pdf.set_text_color(*color)
        height = size * 0.48
        self.pdf.set_xy(LEFT, y)
        wrapped = self.pdf.multi_cell(WIDTH, height, self.clean(text), dry_run=True,
                                      output="LINES")  # fmt: skip
        for line in (wrapped if isinstance(wrapped, list) else [text])[:lines]:
            self.pdf.set_xy(LEFT, y)
            self.pdf.cell(WIDTH, height, line)
            y += height
        return y

    def title(self, y: float, text: str, color: Color = BLUE) -> float:
        self.put(LEFT, y, WIDTH, 6, text, 11, bold=True, color=color)
        self.pdf.set_draw_color(*color)
        self.pdf.line(LEFT, y + 6.3, LEFT + WIDTH, y + 6.3)
        return y + 8

    def header_row(self, y: float, columns: list[tuple[float, str, str]]) -> float:
        self.pdf.set_fill_color(235, 240, 248)
        self.pdf.rect(LEFT, y, sum(w for w, _, _ in columns), ROW + 0.4, style="F")
        x = LEFT
        for w, text, align in columns:
            self.put(x + 1, y + 0.2, w - 2, ROW, text, 7.5, bold=True, align=align, color=GREY)
            x += w
        return y + ROW + 0.6
