"""Email addresses we accept: parsed by the standard library, then held to what a mail
server will take from us without surprises; and the hosts that are this machine.

``valid_address`` is a patient's address from a schedule (a bare ``local@domain``);
``parse_mailbox`` is an address from the clinic config, which may also carry a display
name (``Harbour Skin Clinic <care@harbour.example>``). Neither ever raises: anything the
email package cannot parse (``HeaderParseError`` included) is simply "not valid", and no
message here quotes the address.

``is_this_machine`` tells a loopback host (``localhost``, 127.0.0.0/8, ``::1``): the only
place mail or records may go unencrypted.
"""

from __future__ import annotations

import ipaddress
import re

# RFC 5322 dot-atom text for the local part (no quoted strings, no comments)
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
# RFC 1035 / 5890 host names: letters, digits and hyphens, no empty label, no end dot
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})")


def valid_address(text: str | None) -> bool:
    """A plain ASCII addr-spec (local@domain.tld) that the email package parses to itself:
    no display name, no brackets, no trailing dot, no empty part, no space or control
    character, at most 254 characters (64 before the "@")."""
    if not isinstance(text, str):
        return False
    text = text.strip()
    if not text or len(text) > 254 or not text.isascii() or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    if len(local) > 64 or not _LOCAL.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        return False
    return _parses_to(text, text)


def _parses_to(text: str, addr_spec: str) -> bool:
    """The email package reads ``text`` as exactly one mailbox whose address is ``addr_spec``."""
    from email.headerregistry import Address
    from email.utils import getaddresses

    try:
        found = getaddresses([text])
        if len(found) != 1 or found[0][1] != addr_spec:
            return False
        address = Address(addr_spec=addr_spec)
    except Exception:  # noqa: BLE001 - HeaderParseError, ValueError, IndexError...: not an address
        return False
    return f"{address.username}@{address.domain}" == addr_spec


def parse_mailbox(text: str | None) -> tuple[str, str] | None:
    """(display name, address) of ``desk@clinic.example`` or ``Clinic <desk@clinic.example>``;
    None when it is not one valid mailbox."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > 320 or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    if valid_address(text):
        return "", text
    from email.utils import parseaddr

    try:
        name, address = parseaddr(text)
    except Exception:  # noqa: BLE001 - the email package's own parse errors
        return None
    if not text.endswith(">") or not valid_address(address) or not _parses_to(text, address):
        return None
    if "=?" in name:  # an encoded word (RFC 2047), as some mail programs write a name
        from email.header import decode_header, make_header

        try:
            name = str(make_header(decode_header(name)))
        except (ValueError, LookupError, UnicodeError):
            return None
    name = " ".join(name.split())
    return (name, address) if name.isprintable() else None


def is_this_machine(host: str) -> bool:
    """True for localhost and loopback addresses only (no name is looked up)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
