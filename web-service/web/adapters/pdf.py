"""Printable forms as PDF: WeasyPrint lays out the same HTML the browser prints (its print styles
apply), so the paper and the file never differ. The forms carry their styles inline and fetch
nothing, so a PDF never calls back into the console."""

from __future__ import annotations

import asyncio

import segno


def qr_svg(data: str) -> str:
    """An inline SVG QR code (error correction M, the standard's quiet zone of four modules). It has a
    viewBox and no size of its own, so the form's CSS scales it: with a fixed size, a smaller box
    would cut the code off and no camera could read it."""
    return segno.make_qr(data, error="m").svg_inline(border=4, omitsize=True)


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on first use: it loads Pango and fonts

    return HTML(string=html).write_pdf()


async def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document, laid out off the event loop."""
    return await asyncio.to_thread(_pdf, html)
