"""What a notice says: Jinja2 templates per event type and channel, Vietnamese by default.

Each `templates/<language>/<template>.j2` holds the blocks `subject` and `text` (e-mail) and
`sms` (rendered at shortening levels 0, 1, 2 until it fits one segment). E-mail HTML wraps the
text in `_email.html.j2`; forms that go with an e-mail are under `templates/vi/forms/`. Dates and
money are written by the kernel's filters (`datetime`, `date`, `money`), in the notice's language
where the text is English."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from notify.application.ports import Message
from notify.domain.policy import Trigger
from notify.domain.sms_text import DEFAULT_FORBIDDEN, DEFAULT_LIMIT, fit_sms
from services.formatting import jinja_filters

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("vi", "en")
FORMS = {
    "form_1_receipt": "mau-01-giay-tiep-nhan-hen-tra",
    "form_2_supplement": "mau-02-phieu-yeu-cau-bo-sung",
    "form_4_apology": "mau-04-phieu-xin-loi-hen-lai",
}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    media_type: str = "text/html"


@dataclass(frozen=True)
class EmailMessage:
    subject: str
    text: str
    html: str
    attachment: Attachment | None = None


def _first_items(items: list[str], count: int) -> str:
    """The first `count` items, and how many more: `a; b (+3)`."""
    shown = "; ".join(items[:count])
    rest = len(items) - count
    return f"{shown} (+{rest})" if rest > 0 else shown


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"]) if autoescape else False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(jinja_filters(), first_items=_first_items)
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    rendered = "".join(template.blocks[name](template.new_context(context)))
    return rendered.strip()


def _template(language: str, name: str) -> Template:
    return _TEXT.get_template(f"{language if language in LANGUAGES else 'vi'}/{name}.j2")


def render_sms(
    name: str, context: Mapping[str, Any], *, language: str = "vi", limit: int = DEFAULT_LIMIT, forbidden: str = DEFAULT_FORBIDDEN
) -> str:
    template = _template(language, name)
    return fit_sms(
        lambda level: _block(template, "sms", {**context, "level": level, "language": language}), limit, forbidden=forbidden
    )


def render_email(name: str, context: Mapping[str, Any], *, language: str = "vi", form: str | None = None) -> EmailMessage:
    template = _template(language, name)
    ctx = {**context, "level": 0, "language": language}
    subject = " ".join(_block(template, "subject", ctx).split())
    text = _block(template, "text", ctx)
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    html = _HTML.get_template("_email.html.j2").render(subject=subject, paragraphs=paragraphs, language=language, **context)
    attachment = None
    if form is not None:
        content = _HTML.get_template(f"vi/forms/{form}.html.j2").render(**ctx)
        attachment = Attachment(f"{FORMS[form]}-{context['dossier']['code']}.html", content)
    return EmailMessage(subject, text, html, attachment)


class Templates:
    """The `Composer` of notify's use cases: SMS text within one segment of the configured length
    and characters, e-mail with its form."""

    def __init__(self, sms_limit: int = DEFAULT_LIMIT, sms_forbidden: str = DEFAULT_FORBIDDEN) -> None:
        self.sms_limit = sms_limit
        self.sms_forbidden = sms_forbidden

    def compose(self, trigger: Trigger, channel: str, context: Mapping[str, Any], language: str) -> Message:
        if channel == "sms":
            body = render_sms(trigger.template, context, language=language, limit=self.sms_limit, forbidden=self.sms_forbidden)
            return Message(body)
        email = render_email(trigger.template, context, language=language, form=trigger.form)
        attachment = email.attachment
        return Message(
            email.text,
            subject=email.subject,
            html=email.html,
            attachment_name=attachment.filename if attachment else None,
            attachment=attachment.content if attachment else None,
        )
