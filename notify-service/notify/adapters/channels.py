"""Which transport carries each channel, from the settings: the SMS-brandname gateway and the
mail server when configured, else the console/file sink (`make run`, tests), each with its rate
limit. Quiet hours apply to SMS through the gateway only: the console sink wakes nobody."""

from __future__ import annotations

from notify.adapters.console_sink import ConsoleChannel, ConsoleSink
from notify.adapters.sms_gateway import HttpSmsGateway
from notify.adapters.smtp_mailer import SmtpMailer
from notify.application.dispatching import Outlet, Outlets, RateLimiter
from notify.settings import NotifySettings

CONSOLE_RATE_PER_SECOND = 1000.0


def outlets_from(settings: NotifySettings) -> Outlets:
    console = Outlet(ConsoleChannel(ConsoleSink(settings.sink_path)), RateLimiter(CONSOLE_RATE_PER_SECOND))
    # A channel that falls back to the console sink is not held to its gateway's rate (it was, and
    # capped the whole system at the SMS gateway's 10 messages a second with no gateway at all).
    sms = console
    if settings.sms_gateway_url:
        sms = Outlet(HttpSmsGateway(settings), RateLimiter(settings.sms_rate_per_second), settings.quiet)
    email = console
    if settings.smtp_host:
        email = Outlet(SmtpMailer(settings), RateLimiter(settings.smtp_rate_per_second))
    return Outlets({"sms": sms, "email": email, "console": console}, settings.send_concurrency)
