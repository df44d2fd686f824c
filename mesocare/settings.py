"""Where the clinic's messages go: its mail server (config ``email:``) and its record system
(config ``ehr:``). A leaf: ``Clinic`` names these types, and only a clinic whose config has an
``email:`` or ``ehr:`` section (read by ``mesocare.config``) makes them, so a run that needs
neither never imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmailSettings:
    """How to reach the clinic's mail server (everything but the password)."""

    sender: str  # the From address (the address alone)
    host: str
    port: int
    security: str = "starttls"  # starttls | tls | none
    username: str | None = None
    reply_to: str | None = None  # an address, or Name <address>
    ca_file: str | None = None  # a CA bundle to trust instead of the system's (an in-house CA)
    timeout: float = 30.0  # seconds, for connecting and for every reply
    retries: int = 3  # extra attempts after a temporary failure (4xx, connection lost)
    retry_wait: float = 2.0  # seconds before the first retry; doubled each time
    sender_name: str | None = None  # the display name of ``from:`` (wins over the clinic's name)


@dataclass(frozen=True)
class MllpSettings:
    """The clinic's interface engine (config ``ehr: mllp:``): HL7 v2 over MLLP."""

    host: str
    port: int
    tls: bool = True
    ca_file: str | None = None
    timeout: float = 30.0
    receiving_application: str = ""
    receiving_facility: str = ""


@dataclass(frozen=True)
class FhirSettings:
    """The clinic's FHIR server (config ``ehr: fhir:``); its token only from the environment."""

    base_url: str
    timeout: float = 30.0
    ca_file: str | None = None


@dataclass(frozen=True)
class EhrSettings:
    """Where ``mesocare push`` delivers (config ``ehr:``)."""

    mllp: MllpSettings | None = None
    fhir: FhirSettings | None = None
