"""Draws the accountant's one-page A4 summary (fpdf2; the bar chart is plain rectangles).

Every block has a fixed budget of height (months beyond 36 are counted per year, at most
seven reconciliation rows, long texts shrink then get cut), and automatic page breaks
are off: the summary is always exactly one page.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from fpdf import FPDF

from kiosk.billing.french import euros, french_date, group, month_label, short_label
from kiosk.billing.payments import PeriodBalance
from kiosk.billing.summary import Summary

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
LEFT, WIDTH, BOTTOM = 15.0, 180.0, 282.0
ROW = 4.6
INK, GREY, RULE = (30, 30, 30), (110, 110, 110), (200, 200, 200)
BLUE, GREEN, RED = (46, 94, 170), (20, 120, 60), (190, 20, 20)
MAX_BALANCE_ROWS = 7
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
        color: tuple[int, int, int] = INK,
    ) -> None:
        fitted = self.fit(text, w, size, bold)
        self.pdf.set_text_color(*color)
        self.pdf.set_xy(x, y)
        self.pdf.cell(w, h, fitted, align=align)

    def title(self, y: float, text: str) -> float:
        self.put(LEFT, y, WIDTH, 6, text, 11, bold=True, color=BLUE)
        self.pdf.set_draw_color(*BLUE)
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


def _header(page: Page, s: Summary, y: float) -> float:
    page.put(LEFT, y, WIDTH, 8, "Rémunération DMP — synthèse pour l'expert-comptable", 16, True)
    page.put(LEFT, y + 9, WIDTH, 5, f"Kiosque {s.kiosk_id} · période {s.period}", 10)
    when = s.generated.astimezone(dt.UTC).strftime("%d/%m/%Y à %H:%M UTC")
    note = f"Édité le {when} · jours et mois à l'heure de Paris · 1 € par DMP ouvert"
    page.put(LEFT, y + 14.5, WIDTH, 4, note, 7.5, color=GREY)
    return y + 21


def _totals(page: Page, s: Summary, y: float) -> float:
    f = s.figures
    owed = f["outstanding_cents"] > 0
    boxes = (
        ("DMP ouverts", group(f["openings"]), INK),
        ("Montant dû", page.money(f["amount_due_cents"]), INK),
        ("Payé", page.money(f["amount_paid_cents"]), GREEN),
        ("Reste à percevoir", page.money(f["outstanding_cents"]), RED if owed else GREEN),
    )
    gap = 3.0
    w = (WIDTH - gap * 3) / 4
    page.pdf.set_draw_color(*RULE)
    for i, (label, value, color) in enumerate(boxes):
        x = LEFT + i * (w + gap)
        page.pdf.rect(x, y, w, 15)
        page.put(x + 2, y + 1.5, w - 4, 4, label, 8, color=GREY)
        page.put(x + 2, y + 6.5, w - 4, 7, value, 13, bold=True, color=color)
    counts = (
        f"Réactivations : {group(f['reactivations'])} · déjà existants : "
        f"{group(f['already_existed'])} · refus : {group(f['refused'])} · échecs : "
        f"{group(f['failed'])} · en attente : {group(f['pending'])} · doublons non payés : "
        f"{group(f['duplicates'])}"
    )
    page.put(LEFT, y + 16.5, WIDTH, 4, counts, 7.5, color=GREY)
    return y + 23


def _nice_step(top: int) -> int:
    raw = max(top / 4, 1)
    power = int(10 ** math.floor(math.log10(raw)))  # raw >= 1: a whole power of ten
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _chart(page: Page, s: Summary, y: float) -> float:
    unit = "année" if s.per_year else "mois"
    y = page.title(y, f"DMP ouverts par {unit}")
    if not s.bars:
        page.put(LEFT, y, WIDTH, 5, "Aucun DMP ouvert sur la période.", 8.5, color=GREY)
        return y + 8
    x0, area_w, area_h = LEFT + 12, WIDTH - 12, 46.0
    top_y = y + 4
    base_y = top_y + area_h
    step = _nice_step(max(b.openings for b in s.bars))
    top = step * max(1, math.ceil(max(b.openings for b in s.bars) / step))
    page.pdf.set_draw_color(*RULE)
    for tick in range(0, top + 1, step):
        ty = base_y - area_h * tick / top
        page.pdf.line(x0, ty, x0 + area_w, ty)
        page.put(LEFT, ty - 2, 11, 4, group(tick), 6.5, align="R", color=GREY)
    slot = area_w / len(s.bars)
    every = math.ceil(11 / slot)  # a label needs about 11 mm
    page.pdf.set_fill_color(*BLUE)
    for i, bar in enumerate(s.bars):
        h = area_h * bar.openings / top
        bx = x0 + i * slot
        if h > 0:
            page.pdf.rect(bx + slot * 0.18, base_y - h, slot * 0.64, h, style="F")
        if slot >= 7 and bar.openings:
            page.put(bx, base_y - h - 3.6, slot, 3.4, group(bar.openings), 6.5, align="C")
        if i % every == 0:
            first, second = short_label(bar.key)
            align = "C" if every == 1 else "L"
            page.put(bx, base_y + 0.8, slot * every, 3.5, first, 7, align=align)
            page.put(bx, base_y + 4, slot * every, 3.5, second, 6.5, align=align, color=GREY)
    return base_y + 10


def _month_table(page: Page, s: Summary, y: float) -> float:
    if not s.bars:
        return y
    unit = "année" if s.per_year else "mois"
    y = page.title(y, f"Totaux par {unit}")
    rows = len(s.bars) if len(s.bars) <= 6 else math.ceil(len(s.bars) / 3)
    block_w = WIDTH / 3
    columns = [(block_w * 0.48, unit.capitalize(), "L"), (block_w * 0.18, "DMP", "R"),
               (block_w * 0.30, "Dû", "R")]  # fmt: skip
    blocks = math.ceil(len(s.bars) / rows)
    for b in range(blocks):
        bx = LEFT + b * block_w
        row_y = y
        x = bx
        page.pdf.set_fill_color(235, 240, 248)
        page.pdf.rect(bx, row_y, block_w - 2, ROW + 0.4, style="F")
        for w, text, align in columns:
            page.put(x + 1, row_y + 0.2, w - 2, ROW, text, 7.5, True, align, GREY)
            x += w
        row_y += ROW + 0.6
        for bar in s.bars[b * rows : (b + 1) * rows]:
            cells = (month_label(bar.key), group(bar.openings), page.money(bar.due_cents))
            x = bx
            for (w, _, align), text in zip(columns, cells, strict=True):
                page.put(x + 1, row_y, w - 2, ROW, text, 8, align=align)
                x += w
            row_y += ROW
    return y + (ROW + 0.6) + ROW * min(rows, len(s.bars)) + 3


_BALANCE_COLUMNS = [(46.0, "Période", "L"), (40.0, "Paiements", "L"), (20.0, "Ouverts", "R"),
                    (24.0, "Dû", "R"), (24.0, "Payé", "R"), (26.0, "Solde", "R")]  # fmt: skip


def _balance_row(page: Page, y: float, row: PeriodBalance, refs: str) -> None:
    period = f"{french_date(row.period_start)} – {french_date(row.period_end)}"
    cells = (period, refs, group(row.openings), page.money(row.due_cents),
             page.money(row.paid_cents), page.money(row.balance_cents))  # fmt: skip
    x = LEFT
    for i, ((w, _, align), text) in enumerate(zip(_BALANCE_COLUMNS, cells, strict=True)):
        owed = i == len(cells) - 1 and row.balance_cents > 0
        page.put(x + 1, y, w - 2, ROW, text, 8, align=align, color=RED if owed else INK)
        x += w


def _reconciliation(page: Page, s: Summary, y: float) -> float:
    y = page.title(y, "Rapprochement avec les paiements reçus (tout le registre)")
    if not s.balances and s.unpaid is None:
        page.put(LEFT, y, WIDTH, 5, "Aucun paiement importé, rien de dû.", 8.5, color=GREY)
        return y + 8
    y = page.header_row(y, _BALANCE_COLUMNS)
    room = MAX_BALANCE_ROWS - (1 if s.unpaid else 0)
    shown = s.balances[-room:] if room > 0 else []
    if len(s.balances) > len(shown):
        hidden = len(s.balances) - len(shown)
        page.put(LEFT + 1, y, WIDTH, ROW, f"… {hidden} période(s) plus ancienne(s)", 7.5,
                 color=GREY)  # fmt: skip
        y += ROW
    for row in shown:
        _balance_row(page, y, row, ", ".join(row.references))
        y += ROW
    if s.unpaid is not None:
        _balance_row(page, y, s.unpaid, "aucun paiement ne couvre")
        y += ROW
    return y + 3


def _verification(page: Page, s: Summary, y: float) -> float:
    y = page.title(y, "Vérification du registre")
    v = s.verdict
    if v.ok:
        text = (
            f"Registre intact : {group(v.entries)} entrées, chaîne de hachage et tables vérifiées"
        )
        page.put(LEFT, y, WIDTH, 5, text, 9, bold=True, color=GREEN)
        page.put(LEFT, y + 5, WIDTH, 4.5, f"Signatures : {s.key_note}.", 8, color=GREEN)
        y += 10
    else:
        page.put(LEFT, y, WIDTH, 5, "Registre NON INTACT : les chiffres ci-dessus ne sont pas "
                 "fiables.", 9, bold=True, color=RED)  # fmt: skip
        page.put(LEFT, y + 5, WIDTH, 4.5, f"Premier défaut : {v.message[:160]}", 8, color=RED)
        y += 10
    if s.checkpoint is None:
        text = "Aucun point de contrôle signé."
    else:
        day, seq, head = s.checkpoint
        text = (f"Dernier point de contrôle signé : {french_date(day)}, entrée n° {group(seq)}, "
                f"empreinte {head[:16]}")  # fmt: skip
    page.put(LEFT, y, WIDTH, 4.5, text, 8.5)
    return y + 6


def render(s: Summary, out: Path, font_dir: Path = FONT_DIR) -> None:
    page = Page(font_dir)
    page.pdf.set_title(f"Rémunération DMP — {s.kiosk_id} — {s.period}")
    page.pdf.set_creator("Borne DMP")
    y = 12.0
    for block in (_header, _totals, _chart, _month_table, _reconciliation, _verification):
        y = block(page, s, y)
    page.put(LEFT, BOTTOM, WIDTH, 4, "Borne DMP · registre append-only chaîné (SHA-256), "
             "points de contrôle quotidiens signés (Ed25519)", 6.5, color=GREY)  # fmt: skip
    out.write_bytes(bytes(page.pdf.output()))
