"""The clinic config's ``ehr:`` section: where ``mesocare push`` delivers.

    ehr:
      mllp:
        host: engine.clinic.example   # the interface engine
        port: 2575
        security: tls                 # tls (default), or none: plain TCP
        allow_plaintext: false        # none to another machine needs this set to true
        ca_file: engine-ca.pem        # a CA to trust instead of the system's
        timeout: 30                   # seconds for connecting and for each ACK
        receiving_application: EHR
        receiving_facility: CLINIC
      fhir:
        base_url: https://fhir.clinic.example/r4   # https only (http to this machine alone)
        timeout: 30

Plain TCP is allowed to this machine (a local engine); to another machine only when the config
says ``allow_plaintext: true`` as well. The FHIR server's bearer token is read only from the
environment (``MESOCARE_FHIR_TOKEN``), never from a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mesocare.addresses import is_this_machine
from mesocare.settings import EhrSettings, FhirSettings, MllpSettings

TOKEN_ENV = "MESOCARE_FHIR_TOKEN"


class MllpSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    security: Literal["tls", "none"] = "tls"
    allow_plaintext: bool = False
    ca_file: str | None = None
    timeout: float = Field(30.0, gt=0, le=600)
    receiving_application: str = ""
    receiving_facility: str = ""

    @model_validator(mode="after")
    def _plain_only_when_said(self) -> MllpSpec:
        if self.security == "none" and not is_this_machine(self.host) and not self.allow_plaintext:
            raise ValueError(
                "security: none sends patients' records unencrypted: to another machine only with"
                " allow_plaintext: true as well (use tls, or a local engine)"
            )
        return self


class FhirSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    base_url: str = Field(min_length=1)
    timeout: float = Field(30.0, gt=0, le=600)
    ca_file: str | None = None

    @model_validator(mode="after")
    def _https(self) -> FhirSpec:
        url = urlsplit(self.base_url)
        if url.scheme not in ("https", "http") or not url.hostname:
            raise ValueError("base_url must be a web address, e.g. https://fhir.clinic.example/r4")
        if url.scheme == "http" and not is_this_machine(url.hostname):
            raise ValueError("base_url must use https: http is allowed only to this machine")
        return self


class EhrSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mllp: MllpSpec | None = None
    fhir: FhirSpec | None = None

    def settings(self, base: Path) -> EhrSettings:
        def path(value: str | None) -> str | None:
            return str((base / value).resolve()) if value else None

        m, f = self.mllp, self.fhir
        return EhrSettings(
            mllp=MllpSettings(
                m.host,
                m.port,
                m.security == "tls",
                path(m.ca_file),
                m.timeout,
                m.receiving_application,
                m.receiving_facility,
            )
            if m
            else None,
            fhir=FhirSettings(f.base_url.rstrip("/"), f.timeout, path(f.ca_file)) if f else None,
        )
