"""The clinic config's ``email:`` settings (validated with pydantic when a config file is read).

``email:`` is the clinic's address (calendar files name it as the organizer), alone or
with the mail server that ``send`` and ``remind`` go through:

    email: desk@harbourskin.example      # the address only: nothing can be sent

    email:
      from: Harbour Skin Clinic <desk@harbourskin.example>   # or the address alone
      host: smtp.harbourskin.example
      port: 587              # default: 587 for starttls, 465 for tls, 25 for none
      security: starttls     # starttls (default), tls, or none (only to this machine)
      username: desk@harbourskin.example   # the password: $MESOCARE_SMTP_PASSWORD only

The password is never read from a file. ``security: none`` sends in plain text, so it is
refused for any host but this machine (localhost, 127.0.0.0/8, ::1): mail with health
information must not cross a network unencrypted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mesocare.addresses import is_this_machine, parse_mailbox
from mesocare.settings import EmailSettings

PASSWORD_ENV = "MESOCARE_SMTP_PASSWORD"
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class EmailSpec(BaseModel):
    """The ``email:`` mapping of the clinic config."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)
    from_: str = Field(alias="from", description="the clinic's address, e.g. desk@clinic.example")
    host: str | None = Field(
        None, min_length=1, description="the clinic's mail server (none: nothing is sent)"
    )
    port: int | None = Field(None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    reply_to: str | None = None
    ca_file: str | None = None
    timeout: float = Field(30.0, gt=0, le=600)
    retries: int = Field(3, ge=0, le=10)
    retry_wait: float = Field(2.0, ge=0, le=300)

    @model_validator(mode="before")
    @classmethod
    def _address_alone(cls, data):
        return {"from": data} if isinstance(data, str) else data

    @field_validator("from_", "reply_to")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        """Kept as written (``desk@clinic.example`` or ``Clinic <desk@clinic.example>``); an
        address that is not valid is kept for ``problem`` to name: only the commands that send
        mail stop on it."""
        return v if v is None else v.strip()

    def problem(self) -> str | None:
        """The config field (``from`` or ``reply_to``) whose address is not valid, if any."""
        for key, value in (("from", self.from_), ("reply_to", self.reply_to)):
            if value is not None and parse_mailbox(value) is None:
                return key
        return None

    @property
    def address(self) -> str:
        """The address of ``from`` alone (desk@clinic.example), without its display name."""
        found = parse_mailbox(self.from_)
        assert found is not None  # only asked once ``problem`` found nothing wrong
        return found[1]

    @model_validator(mode="after")
    def _plain_only_here(self) -> EmailSpec:
        if self.host and self.security == "none" and not is_this_machine(self.host):
            raise ValueError(
                "security: none sends mail unencrypted, so it is only allowed to this machine "
                "(localhost), "
                f"not to {self.host}: use starttls or tls"
            )
        return self

    def settings(self, base: Path) -> EmailSettings:
        """The settings (``host`` is set), with ``ca_file`` relative to the config file's folder
        ``base``."""
        assert self.host
        return EmailSettings(
            sender=self.address,
            sender_name=(parse_mailbox(self.from_) or ("", ""))[0] or None,
            host=self.host,
            port=self.port or DEFAULT_PORTS[self.security],
            security=self.security,
            username=self.username or None,
            reply_to=self.reply_to,
            ca_file=str((base / self.ca_file).resolve()) if self.ca_file else None,
            timeout=self.timeout,
            retries=self.retries,
            retry_wait=self.retry_wait,
        )
