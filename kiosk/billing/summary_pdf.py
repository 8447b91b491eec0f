"""Draws the accountant's one-page A4 summary (fpdf2; the bar chart is plain rectangles).

The ledger's verdict comes first. A ledger that does not verify gets no figure at all
(see :func:`_unreliable`); one that does gets the period's figures, then apart the whole
register's payments and their reconciliation (payments cover their own periods).

Every block has a fixed budget of height (months beyond 36 are counted per year, at most
seven reconciliation rows, long texts shrink then get cut), and automatic page breaks
are off: the summary is always exactly one page.
"""

from __future__ import annotations

import math
from pathlib import Path

from kiosk.billing import summary_words as words
from kiosk.billing.french import french_date, group, month_label, paris_moment, short_label
from kiosk.billing.payments import PeriodBalance
from kiosk.billing.summary import Check, Figures, Summary
from kiosk.billing.summary_page import (
    AMBER,
    BLUE,
    BOTTOM,
    FONT_DIR,
    GREEN,
    GREY,
    INK,
    LEFT,
    RED,
    ROW,
    RULE,
    WIDTH,
    Color,
    Page,
)

__all__ = ["FONT_DIR", "render"]  # FONT_DIR: the exports' default

MAX_BALANCE_ROWS = 7


def _header(page: Page, s: Summary, y: float) -> float:
    page.put(LEFT, y, WIDTH, 8, "Rémunération DMP — synthèse pour l'expert-comptable", 16, True)
    page.put(LEFT, y + 9, WIDTH, 5, f"Kiosque {s.kiosk_id} · période {s.period}", 10)
    note = (f"Éditée le {paris_moment(s.generated)} (heure de Paris) · jours et mois à l'heure "
            "de Paris · 1 € par DMP ouvert")  # fmt: skip
    page.put(LEFT, y + 14.5, WIDTH, 4, note, 7.5, color=GREY)
    return y + 21


def _verdict_color(check: Check) -> Color:
    return GREEN if check is Check.INTACT else AMBER if check.reliable else RED


def _verdict(page: Page, s: Summary, y: float) -> float:
    """First on the page, before any figure: what ``verify`` found, in French."""
    found, color = s.integrity, _verdict_color(s.integrity.check)
    page.pdf.set_fill_color(*color)
    page.pdf.rect(LEFT, y, 2.2, 16, style="F")
    page.pdf.set_draw_color(*color)
    page.pdf.rect(LEFT, y, WIDTH, 16)
    page.put(LEFT + 4, y + 1, WIDTH - 6, 5.5, words.headline(found), 11, True, color=color)
    page.put(LEFT + 4, y + 6.5, WIDTH - 6, 4.5, words.detail(found), 8, color=color)
    page.put(LEFT + 4, y + 11, WIDTH - 6, 4.5, words.checkpoint_line(found), 8)
    return y + 20


def _unreliable(page: Page, s: Summary, y: float) -> float:
    """A ledger that does not verify shows no figure. Not even under a "non fiables"
    heading: they are computed from tables (acts, payments) that verify could not vouch
    for, so any of them may be the altered one, and a figure on an accountant's summary
    gets copied into the books whatever its caption says. The page says what is wrong
    and what to do instead."""
    y = page.title(y, "Aucun chiffre : registre non vérifié", RED)
    lines = ("Les comptes et montants de ce registre ne peuvent pas être garantis : aucun "
             "n'est reproduit ici, pour qu'aucun ne soit reporté en comptabilité.",
             words.what_to_do(s.integrity))  # fmt: skip
    for line in lines:
        y = page.para(y, line, 9, RED) + 2
    return y + 3


def _box(page: Page, x: float, y: float, w: float, label: str, value: str, color: Color) -> None:
    page.pdf.set_draw_color(*RULE)
    page.pdf.rect(x, y, w, 15)
    page.put(x + 2, y + 1.5, w - 4, 4, label, 8, color=GREY)
    page.put(x + 2, y + 6.5, w - 4, 7, value, 13, bold=True, color=color)


def _totals(page: Page, f: Figures, s: Summary, y: float) -> float:
    """The period's own figures only: what was paid is the register's (see _payments)."""
    y = page.title(y, f"Sur la période : {s.period}")
    p = f.period
    w = (WIDTH - 3) / 2
    _box(page, LEFT, y, w, "DMP ouverts sur la période", group(p["openings"]), INK)
    _box(page, LEFT + w + 3, y, w, "Montant dû pour la période", page.money(p["amount_due_cents"]),
         INK)  # fmt: skip
    counts = (
        f"Sur la période : réactivations {group(p['reactivations'])} · déjà existants "
        f"{group(p['already_existed'])} · refus {group(p['refused'])} · échecs "
        f"{group(p['failed'])} · en attente {group(p['pending'])} · doublons non payés "
        f"{group(p['duplicates'])}"
    )
    page.put(LEFT, y + 16.5, WIDTH, 4, counts, 7.5, color=GREY)
    return y + 22


def _nice_step(top: int) -> int:
    raw = max(top / 4, 1)
    power = int(10 ** math.floor(math.log10(raw)))  # raw >= 1: a whole power of ten
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _chart(page: Page, s: Figures, y: float) -> float:
    unit = "année" if s.per_year else "mois"
    y = page.title(y, f"DMP ouverts par {unit} sur la période")
    if not s.bars:
        page.put(LEFT, y, WIDTH, 5, "Aucun DMP ouvert sur la période.", 8.5, color=GREY)
        return y + 8
    x0, area_w, area_h = LEFT + 12, WIDTH - 12, 36.0
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


def _month_table(page: Page, s: Figures, y: float) -> float:
    if not s.bars:
        return y
    unit = "année" if s.per_year else "mois"
    y = page.title(y, f"Totaux par {unit} sur la période")
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


_BALANCE_COLUMNS = [(46.0, "Période payée", "L"), (34.0, "Paiements", "L"),
                    (20.0, "Ouverts", "R"), (24.0, "Dû", "R"), (24.0, "Payé", "R"),
                    (32.0, "Solde", "R")]  # fmt: skip


def _balance(page: Page, cents: int) -> tuple[str, Color]:
    """Positive: still owed (red); negative: more paid than due, which is not "fine"."""
    if cents < 0:
        return f"trop-perçu {page.money(-cents)}", AMBER
    return page.money(cents), RED if cents > 0 else INK


def _row(page: Page, y: float, cells: tuple[str, ...], balance: int, bold: bool = False) -> None:
    text, color = _balance(page, balance)
    x = LEFT
    for (w, _, align), cell in zip(_BALANCE_COLUMNS[:-1], cells, strict=True):
        page.put(x + 1, y, w - 2, ROW, cell, 8, bold, align)
        x += w
    page.put(x + 1, y, _BALANCE_COLUMNS[-1][0] - 2, ROW, text, 8, bold, "R", color)


def _balance_row(page: Page, y: float, row: PeriodBalance, refs: str) -> None:
    period = f"{french_date(row.period_start)} – {french_date(row.period_end)}"
    cells = (period, refs, group(row.openings), page.money(row.due_cents),
             page.money(row.paid_cents))  # fmt: skip
    _row(page, y, cells, row.balance_cents)


def _standing(page: Page, rest: int, y: float) -> float:
    if rest > 0:
        text, color = f"Reste à percevoir (tout le registre) : {page.money(rest)}", RED
    elif rest < 0:
        text = (f"Trop-perçu ou paiement non rapproché : {page.money(-rest)} (tout le registre : "
                "les paiements dépassent le dû)")  # fmt: skip
        color = AMBER
    else:
        text, color = "Tout le registre est soldé : rien à percevoir, aucun trop-perçu", GREEN
    page.put(LEFT, y, WIDTH, 5, text, 9, bold=True, color=color)
    return y + 5.5


def _payments(page: Page, s: Figures, y: float) -> float:
    """Whole register, whatever the period asked for: a payment covers its own period
    (a year of the ROSP), which a summary's period need not contain."""
    y = page.title(y, "Paiements reçus et rapprochement — tout le registre, toutes périodes")
    page.put(LEFT, y - 1, WIDTH, 4, "Chaque paiement est rapproché des DMP ouverts pendant la "
             "période qu'il paie, quelle que soit la période de cette synthèse.", 7.5,
             color=GREY)  # fmt: skip
    y += 3.5
    if not s.balances and s.unpaid is None:
        page.put(LEFT, y, WIDTH, 5, "Aucun paiement importé, rien de dû.", 8.5, color=GREY)
        return y + 8
    y = page.header_row(y, _BALANCE_COLUMNS)
    room = MAX_BALANCE_ROWS - (1 if s.unpaid else 0)
    if len(s.balances) > room:
        room -= 1  # the "… older periods" line takes a row too
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
    r = s.register
    page.pdf.set_draw_color(*RULE)
    page.pdf.line(LEFT, y + 0.2, LEFT + WIDTH, y + 0.2)
    cells = ("Tout le registre", "", group(r["openings"]), page.money(r["amount_due_cents"]),
             page.money(r["amount_paid_cents"]))  # fmt: skip
    rest = r["amount_due_cents"] - r["amount_paid_cents"]
    _row(page, y + 0.4, cells, rest, bold=True)
    return _standing(page, rest, y + ROW + 1.5) + 2


def render(s: Summary, out: Path, font_dir: Path = FONT_DIR) -> None:
    page = Page(font_dir)
    page.pdf.set_title(f"Rémunération DMP — {s.kiosk_id} — {s.period}")
    page.pdf.set_creator("Borne DMP")
    y = _verdict(page, s, _header(page, s, 12.0))
    if s.figures is None:
        _unreliable(page, s, y)
    else:
        y = _totals(page, s.figures, s, y)
        for block in (_chart, _month_table, _payments):
            y = block(page, s.figures, y)
    page.put(LEFT, BOTTOM, WIDTH, 4, "Borne DMP · registre en ajout seul, chaîné (SHA-256), "
             "points de contrôle quotidiens signés (Ed25519)", 6.5, color=GREY)  # fmt: skip
    out.write_bytes(bytes(page.pdf.output()))
