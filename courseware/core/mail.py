"""Sending email through the SMTP server named by COURSEWARE_SMTP_URL.

    smtp://host:25                      plain SMTP
    smtp://user:pass@host:587?starttls=1  SMTP upgraded with STARTTLS
    smtps://user:pass@host:465          SMTP over TLS

User name and password are percent-decoded. One connection serves a batch of
messages; it opens on the first message and closes when the ``Mailer`` does.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit


class MailError(Exception):
    """Sending failed; ``fatal`` when the server could not be reached at all."""

    def __init__(self, message: str, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str = ""
    password: str = ""
    tls: bool = False
    starttls: bool = False


def parse_smtp_url(url: str) -> SmtpSettings:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("COURSEWARE_SMTP_URL must look like smtp://host:port or smtps://host:port")
    tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes")
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        tls=tls,
        starttls=starttls and not tls,
    )


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class Mailer:
    """A batch of messages over one SMTP connection: ``with Mailer(url, sender) as m:``."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0):
        self.settings = parse_smtp_url(url)
        self.sender = sender
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"cannot reach the mail server {s.host}:{s.port}: {exc}", True) from exc
        return smtp

    def send(self, message: Message) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        email.set_content(message.body)
        try:
            self._smtp.send_message(email)
        except smtplib.SMTPServerDisconnected as exc:
            self._smtp = None
            raise MailError(str(exc), True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(str(exc)) from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None
