"""The certificate as a PDF (证书文件): one A4 page (more if the description is long) in
Chinese, with the signed certificate and its evidence bundle embedded as attachments
(``certificate.json``, ``evidence.json``), so the file alone is enough to verify it offline.

All text is set in the Adobe CJK font STSong-Light (reportlab's built-in CID font: no font
file is embedded, every PDF reader supplies it), which the verifier insists on: a font
embedded by someone else could draw other glyphs for the same characters.
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from shuchang.attestations import encode
from shuchang.domains.assets.layout import LAYOUT, Line, lines

FONT = "STSong-Light"
MARGIN = 56
LABEL_WIDTH = 130
SIZES = {"title": 24, "subtitle": 10, "number": 13, "field": 10.5, "note": 8.5}
INK = (0.12, 0.12, 0.14)
RED = (0.55, 0.08, 0.08)
GREY = (0.38, 0.38, 0.42)
CERTIFICATE_FILE = "certificate.json"
EVIDENCE_FILE = "evidence.json"

pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def wrap(text: str, size: float, width: float) -> list[str]:
    """Break ``text`` into runs no wider than ``width`` (CJK text breaks anywhere)."""
    out, current = [], ""
    for char in text:
        if current and pdfmetrics.stringWidth(current + char, FONT, size) > width:
            out.append(current)
            current = ""
        current += char
    return [*out, current] if current else out or [""]


class _Page:
    """Draws lines top-down, starting a new page when one is full."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.width, self.height = A4
        self._frame()
        self.y = self.height - MARGIN - 40

    def _frame(self) -> None:
        c = self.canvas
        c.setFillColorRGB(0.985, 0.975, 0.95)  # paper tone, painted before any text
        c.rect(MARGIN / 2, MARGIN / 2, self.width - MARGIN, self.height - MARGIN, stroke=0, fill=1)

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self._border()
            self.canvas.showPage()
            self._frame()
            self.y = self.height - MARGIN - 20

    def _border(self) -> None:
        c = self.canvas
        c.setStrokeColorRGB(*RED)
        c.setLineWidth(1.6)
        c.rect(MARGIN / 2 + 6, MARGIN / 2 + 6, self.width - MARGIN - 12, self.height - MARGIN - 12)
        c.setLineWidth(0.5)
        c.rect(
            MARGIN / 2 + 10, MARGIN / 2 + 10, self.width - MARGIN - 20, self.height - MARGIN - 20
        )

    def text(self, x: float, text: str, size: float, color: tuple[float, float, float]) -> None:
        self.canvas.setFillColorRGB(*color)
        self.canvas.setFont(FONT, size)
        self.canvas.drawString(x, self.y, text)

    def centred(self, text: str, size: float, color: tuple[float, float, float]) -> None:
        width = pdfmetrics.stringWidth(text, FONT, size)
        self.need(size * 1.6)
        self.text((self.width - width) / 2, text, size, color)
        self.y -= size * 1.7

    def field(self, label: str, value: str) -> None:
        size = SIZES["field"]
        runs = wrap(value, size, self.width - 2 * MARGIN - LABEL_WIDTH)
        self.need(size * 1.6)
        self.text(MARGIN, label, size, GREY)
        for run in runs:
            self.need(size * 1.6)
            self.text(MARGIN + LABEL_WIDTH, run, size, INK)
            self.y -= size * 1.6
        self.y -= size * 0.6

    def note(self, value: str) -> None:
        size = SIZES["note"]
        self.y -= size
        for run in wrap(value, size, self.width - 2 * MARGIN):
            self.need(size * 1.5)
            self.text(MARGIN, run, size, GREY)
            self.y -= size * 1.5

    def finish(self) -> None:
        self._border()
        self.canvas.showPage()


def _draw(page: _Page, line: Line) -> None:
    if line.style == "title":
        page.centred(line.text, SIZES["title"], RED)
    elif line.style in ("subtitle", "number"):
        page.centred(line.text, SIZES[line.style], GREY if line.style == "subtitle" else INK)
        if line.style == "number":
            page.y -= 8
    elif line.style == "field":
        page.field(line.label, line.text)
    else:
        page.note(line.text)


def render(document: dict[str, Any], bundle: dict[str, Any] | None) -> bytes:
    """The certificate PDF with both attachments."""
    body = document["certificate"]
    buffer = io.BytesIO()
    canvas = Canvas(  # the stubs type initialFontName as a float; reportlab takes a name
        buffer,
        pagesize=A4,
        invariant=1,
        pageCompression=1,
        initialFontName=FONT,  # type: ignore[arg-type]
    )
    canvas.setTitle(f"数据资产登记证书 {body['registrationNumber']}")
    canvas.setAuthor(body["issuer"]["name"])
    canvas.setSubject(body["asset"]["title"])
    page = _Page(canvas)
    for line in lines(document, bundle):
        _draw(page, line)
    page.finish()
    canvas.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.add_attachment(CERTIFICATE_FILE, encode(document))
    if bundle is not None:
        writer.add_attachment(EVIDENCE_FILE, encode(bundle))
    writer.add_metadata({"/ShuchangLayout": str(LAYOUT)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
