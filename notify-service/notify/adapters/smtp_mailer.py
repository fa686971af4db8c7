"""E-mail over SMTP (aiosmtplib): STARTTLS or implicit TLS, HTML plus plain text, the form attached.
The Message-ID is derived from the notice id, so a mailbox that drops repeated Message-IDs sees one.

A mail server cannot be asked whether it already took a message: an e-mail in doubt after a crash
(sent, maybe, before its outcome was recorded) is sent again with the same Message-ID."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from notify.application.ports import Acceptance, Outcome, Outgoing
from notify.settings import NotifySettings


def build_message(notice: Outgoing, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notice.recipient
    message["Subject"] = notice.subject or ""
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{notice.idempotency_id}@notify.motcua>"
    message["X-MotCua-Dossier"] = notice.dossier_id
    message.set_content(notice.body)
    if notice.html:
        message.add_alternative(notice.html, subtype="html")
    if notice.attachment and notice.attachment_name:
        message.add_attachment(notice.attachment, subtype="html", charset="utf-8", filename=notice.attachment_name)
    return message


class SmtpMailer:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self.tls_context: ssl.SSLContext | None = None
        if settings.smtp_security != "none":
            self.tls_context = ssl.create_default_context(cafile=settings.smtp_ca_file)

    async def send(self, notice: Outgoing) -> Outcome:
        s = self.settings
        try:
            await aiosmtplib.send(
                build_message(notice, s.smtp_sender),
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password,
                use_tls=s.smtp_security == "tls",
                start_tls=True if s.smtp_security == "starttls" else False,
                tls_context=self.tls_context,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            code = str(refused.code) if refused is not None else "550"
            return Outcome("rejected", f"recipient refused: {refused.message if refused else exc}", code=code)
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                return Outcome("rejected", f"SMTP {exc.code}: {exc.message}", code=str(exc.code))
            return Outcome("transient", f"SMTP {exc.code}: {exc.message}", code=str(exc.code))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Outcome("transient", f"{type(exc).__name__}: {exc}", code="network")
        return Outcome.accepted(f"<{notice.idempotency_id}@notify.motcua>")

    async def already_accepted(self, notice: Outgoing) -> Acceptance:
        return "unknown"  # SMTP has no status query: sent again, with the same Message-ID

    async def close(self) -> None:
        return None
