"""A report document as an A4 PDF, in Thai or English, with a bar beside every figure.

The Thai text needs a Thai TrueType font: Laksaman (the TH Sarabun design Thai government
documents use) from Debian's fonts-thai-tlwg, else another Thai-capable font found on the system.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from reports.document import Lang, ReportDocument, Row, Section

TLWG: Final = "/usr/share/fonts/truetype/tlwg"
NOTO: Final = "/usr/share/fonts/truetype/noto"
FONT_CANDIDATES: Final = (
    (f"{TLWG}/Laksaman.ttf", f"{TLWG}/Laksaman-Bold.ttf"),
    (f"{TLWG}/Garuda.ttf", f"{TLWG}/Garuda-Bold.ttf"),
    (f"{NOTO}/NotoSansThai-Regular.ttf", f"{NOTO}/NotoSansThai-Bold.ttf"),
)
FAMILY: Final = "thai"
# Thai fonts lack the arrows ↑ ↓; DejaVu (installed with every Debian desktop) draws them.
SYMBOLS: Final = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
WIDTHS: Final = (108.0, 20.0, 20.0, 8.0, 24.0)  # item, value, previous, trend, bar (mm)
ROW_HEIGHT: Final = 6.5
BAR_RGB: Final = (29, 78, 216)
HEADINGS: Final = {
    "th": ("รายการ", "เดือนนี้", "เดือนก่อน", "", ""),
    "en": ("Item", "This month", "Previous", "", ""),
}
SINGLE_HEADINGS: Final = {
    "th": ("รายการ", "จำนวน", "", "", ""),
    "en": ("Item", "Count", "", "", ""),
}
PAGE_WORD: Final = {"th": "หน้า", "en": "Page"}
GENERATED: Final = {"th": "จัดทำเมื่อ", "en": "Generated"}


class FontMissing(RuntimeError):
    """No Thai-capable font installed; the message names the Debian package to install."""


@cache
def thai_font() -> tuple[Path, Path]:
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file() and Path(bold).is_file():
            return Path(regular), Path(bold)
    raise FontMissing(
        "no Thai font for PDF reports: install the Debian package fonts-thai-tlwg "
        f"(looked for {', '.join(r for r, _ in FONT_CANDIDATES)})"
    )


class _Pdf(FPDF):
    def __init__(self, lang: Lang, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.lang = lang
        self.footer_text = footer_text
        regular, bold = thai_font()
        self.add_font(FAMILY, "", str(regular))
        self.add_font(FAMILY, "B", str(bold))
        if importlib.util.find_spec("uharfbuzz") is not None:
            # HarfBuzz places Thai tone marks and vowels as the font intends (ให้, not ใหบ้).
            self.set_text_shaping(True)
        symbols = next((p for p in SYMBOLS if Path(p).is_file()), None)
        if symbols:
            self.add_font("symbols", "", symbols)
            self.set_fallback_fonts(["symbols"], exact_match=False)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, "", 10)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 6, f"{PAGE_WORD[self.lang]} {self.page_no()}/{{nb}}", align="R")


def to_pdf(document: ReportDocument, lang: Lang, generated_at: datetime) -> bytes:
    pdf = _Pdf(lang, f"{GENERATED[lang]} {generated_at:%Y-%m-%d %H:%M}")
    pdf.add_page()
    _header(pdf, document, lang)
    for section in document.sections:
        _section(pdf, section, lang, compared=document.previous_period is not None)
    return bytes(pdf.output())


def _header(pdf: _Pdf, document: ReportDocument, lang: Lang) -> None:
    pdf.set_font(FAMILY, "B", 20)
    pdf.multi_cell(0, 9, document.title.get(lang), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 16)
    pdf.cell(0, 8, document.period.get(lang), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if document.previous_period is not None:
        pdf.set_font(FAMILY, "", 13)
        pdf.set_text_color(90, 90, 90)
        against = {"th": "เทียบกับ", "en": "Compared with"}[lang]
        pdf.cell(0, 7, f"{against} {document.previous_period.get(lang)}  (↑ ↓ =)",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def _section(pdf: _Pdf, section: Section, lang: Lang, *, compared: bool) -> None:
    rows = [flat for top in section.rows for flat in top.flat()]
    if pdf.will_page_break(ROW_HEIGHT * min(len(rows) + 2, 6)):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 15)
    title = section.title.get(lang)
    if section.total is not None:
        title = f"{title}  ({section.total.current:,})"
    pdf.cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _table_head(pdf, lang, compared)
    top = max((r.figure.current for r in rows), default=0)
    for index, row in enumerate(rows):
        if pdf.will_page_break(ROW_HEIGHT):
            pdf.add_page()
            _table_head(pdf, lang, compared)
        _row(pdf, row, lang, top, shaded=index % 2 == 1)
    pdf.ln(3)


def _table_head(pdf: _Pdf, lang: Lang, compared: bool) -> None:
    pdf.set_font(FAMILY, "B", 12)
    pdf.set_fill_color(226, 232, 240)
    headings = HEADINGS[lang] if compared else SINGLE_HEADINGS[lang]
    for width, text, align in zip(WIDTHS, headings, _ALIGNS, strict=True):
        pdf.cell(width, ROW_HEIGHT, text, border="B", align=align, fill=True)
    pdf.ln(ROW_HEIGHT)


def _row(pdf: _Pdf, row: Row, lang: Lang, top: int, *, shaded: bool) -> None:
    pdf.set_font(FAMILY, "" if row.level else "B", 13 if row.level == 0 else 12)
    pdf.set_fill_color(246, 247, 249)
    figure = row.figure
    cells: Sequence[str] = (
        ("      " * row.level) + row.label.get(lang),
        f"{figure.current:,}",
        "" if figure.previous is None else f"{figure.previous:,}",
        str(figure.trend) if figure.trend else "",
    )
    for width, text, align in zip(WIDTHS, cells, _ALIGNS, strict=False):
        pdf.cell(width, ROW_HEIGHT, _fit(pdf, text, width), align=align, fill=shaded)
    _bar(pdf, figure.current, top, shaded)
    pdf.ln(ROW_HEIGHT)


def _bar(pdf: _Pdf, value: int, top: int, shaded: bool) -> None:
    x, y, width = pdf.get_x(), pdf.get_y(), WIDTHS[-1]
    if shaded:
        pdf.rect(x, y, width, ROW_HEIGHT, style="F")
    if top and value:
        pdf.set_fill_color(*BAR_RGB)
        pdf.rect(x + 1, y + 1.5, max(0.6, (width - 2) * value / top), ROW_HEIGHT - 3, style="F")
        pdf.set_fill_color(246, 247, 249)


def _fit(pdf: _Pdf, text: str, width: float) -> str:
    """Cut a label that would run into the next column, with an ellipsis."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2:
        text = text[:-1]
    return text + "…"


_ALIGNS: Final = ("L", "R", "R", "C", "L")
