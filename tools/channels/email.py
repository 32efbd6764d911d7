"""E-mail over SMTP: the notice as a plain-text message, through the relay the channel names (STARTTLS and
a login when it asks for them)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tools.channels.http import DeliveryError
from tools.channels.notice import Notice

TIMEOUT_SECONDS = 10.0
_ADDRESS = r"^[^@\s,;<>]+@[^@\s,;<>]+$"


class EmailTarget(BaseModel):
    kind: Literal["email"] = "email"
    to: list[str] = Field(min_length=1, max_length=20, description="Recipients")
    sender: str = Field("optiinfra@localhost", pattern=_ADDRESS, description="The From address")
    host: str = Field(min_length=1, max_length=253, description="The SMTP relay")
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = Field(False, description="Upgrade the connection with STARTTLS before anything else")
    username: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=200, description="Kept secret: never shown")

    @field_validator("to")
    @classmethod
    def _addresses(cls, to: list[str]) -> list[str]:
        for address in to:
            if not re.fullmatch(_ADDRESS, address):
                raise ValueError(f"'{address[:80]}' is not an e-mail address")
        return to

    def describe(self) -> str:
        login = f" as {self.username}" if self.username else ""
        tls = " with STARTTLS" if self.starttls else ""
        return f"e-mail to {', '.join(self.to)} via {self.host}:{self.port}{tls}{login}"

    async def send(self, notice: Notice, delivery_id: str) -> None:
        await asyncio.to_thread(self._send, compose(notice, self.sender, self.to, delivery_id))

    def _send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            # 4xx: the relay is busy or greylisting, try later; 5xx: it refuses this message for good.
            said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {said[:200]}", retryable=exc.smtp_code < 500
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("the relay refused every recipient", retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"cannot reach the relay ({type(exc).__name__})", retryable=True) from None


def compose(notice: Notice, sender: str, to: list[str], delivery_id: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[OptiInfra {notice.severity}] {notice.title}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    # The same notice sent again (a retry) is the same message to a mail client.
    digest = hashlib.sha256(delivery_id.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@optiinfra>"
    lines = [notice.text, ""]
    if notice.action:
        lines += ["To act on it:", f"  {notice.action}", ""]
    if notice.link:
        lines += [f"Open: {notice.link}", ""]
    lines.append(f"{notice.event} · {notice.severity} · {notice.at.strftime('%Y-%m-%d %H:%M UTC')}")
    message.set_content("\n".join(lines))
    return message
