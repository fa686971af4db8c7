"""The printable receipt and appointment slip (form 1) as HTML, with the dossier code as a QR code."""

from __future__ import annotations

from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

from intake.schemas import Receipt
from services.formatting import jinja_filters

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"), autoescape=select_autoescape(["html"])
)
_templates.filters.update(jinja_filters())


def qr_svg(data: str) -> str:
    """An inline SVG QR code (error correction M), readable by any phone camera."""
    return segno.make_qr(data, error="m").svg_inline(scale=4, border=2)


def render_receipt_html(receipt: Receipt) -> str:
    return _templates.get_template("receipt.html").render(r=receipt, qr=qr_svg(receipt.dossier_code))
