"""What a notice says: Jinja2 templates per event type and channel, Vietnamese by default.

Each `templates/<language>/<template>.j2` holds the blocks `subject` and `text` (e-mail) and
`sms` (rendered at shortening levels 0 to 3 until it fits one segment). E-mail HTML wraps the
text in `_email.html.j2`; forms that go with an e-mail are under `templates/vi/forms/`. Dates and
money are written by the kernel's filters (`datetime`, `date`, `money`), in the notice's language
where the text is English.

An SMS carries the look-up link only whole: when the gateway refuses one of its characters (the
`&` before the secret, usually), the SMS has the link without the secret (`tracking_url`). The
receipt's SMS writes the secret out unless the link it shows carries it (`link_has_secret`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from notify.application.ports import Message
from notify.domain.lookup_link import carried_by_sms
from notify.domain.policy import Trigger
from notify.domain.sms_text import DEFAULT_FORBIDDEN, DEFAULT_LIMIT, fit_sms
from services.formatting import jinja_filters

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("vi", "en")
SMS_LEVELS = 4  # a template's last level drops what the one before kept (a template may stop at 2: its 3 is its 2)
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


def _sms_link(context: Mapping[str, Any], forbidden: str) -> Mapping[str, Any]:
    """The context with a look-up link the gateway takes whole, and whether it carries the secret."""
    dossier = context.get("dossier")
    if not dossier or "tracking_url" not in dossier:
        return context
    whole = carried_by_sms(dossier["lookup_url"], forbidden)
    link = dossier["lookup_url"] if whole else dossier["tracking_url"]
    with_secret = bool(dossier.get("lookup_secret")) and link != dossier["tracking_url"]
    return {**context, "dossier": {**dossier, "lookup_url": link, "link_has_secret": with_secret}}


def render_sms(
    name: str, context: Mapping[str, Any], *, language: str = "vi", limit: int = DEFAULT_LIMIT, forbidden: str = DEFAULT_FORBIDDEN
) -> str:
    template = _template(language, name)
    context = _sms_link(context, forbidden)
    return fit_sms(
        lambda level: _block(template, "sms", {**context, "level": level, "language": language}),
        limit,
        levels=SMS_LEVELS,
        forbidden=forbidden,
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
