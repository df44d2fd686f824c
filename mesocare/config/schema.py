"""The clinic config file's fields, validated with pydantic (loaded only when a file is read)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mesocare.config.ehr import EhrSpec
from mesocare.config.mail import EmailSpec
from mesocare.vocab import AREAS, WEEKDAYS, Paper, PrintSize, Technique, Units


class ServiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    area: str
    technique: Technique = "needle"

    @field_validator("area")
    @classmethod
    def _area(cls, v: str) -> str:
        parts = [p.strip().lower() for p in v.replace("+", ",").split(",")]
        bad = [p for p in parts if p not in AREAS]
        if bad:
            raise ValueError(
                f"'{v}' is not a known area: use {', '.join(AREAS)} (join several with +)"
            )
        return "+".join(parts)


class LanguageReview(BaseModel):
    """A clinician who reads the language reviewed the handout text in it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reviewed_by: str = Field(min_length=1, description="the clinician's name, as footers print it")
    reviewed_on: date


class ClinicSpec(BaseModel):
    """The clinic config file (mesocare.yaml)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field("Your mesotherapy clinic", min_length=1)
    phone: str | None = None
    email: EmailSpec | None = (
        None  # the clinic's address alone, or with the mail server (mesocare.config.mail)
    )
    timezone: str | None = Field(
        None, description="IANA zone, e.g. Europe/London; default: this machine's"
    )
    duration: int = Field(30, ge=1, le=1440, description="default appointment length in minutes")
    paper: Paper = "A4"
    print: PrintSize = Field("normal", description="large: 18 pt body text in html and pdf")
    units: Units = "metric"
    rules_dir: str | None = None
    templates_dir: str | None = None
    closed_weekdays: list[str] = Field(default_factory=list)
    holidays_country: str | None = None
    holidays_subdiv: str | None = None
    reviewed_by: str | None = Field(
        None, description="the clinician who signed off the rules in force (shown on every handout)"
    )
    services: dict[str, ServiceSpec] = Field(default_factory=dict)
    language: str | None = Field(
        None, description="the clinic's language (BCP 47): en-GB (default), fr, es-MX, pt-BR..."
    )
    languages: list[str] | dict[str, LanguageReview | None] = Field(
        default_factory=list,
        description="every language the clinic hands out (for rules check); as a mapping, "
        "each with the clinician who reviewed its text: "
        "{fr: {reviewed_by: Dr ..., reviewed_on: 2026-11-30}}",
    )
    country: str | None = Field(
        None, description="ISO 3166 code (GB, FR, US...): the emergency number on handouts"
    )
    state_dir: str | None = None
    ehr: EhrSpec | None = None  # where `mesocare push` delivers (mesocare.config.ehr)

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from babel import Locale

        code = v.upper()
        if len(code) != 2 or code not in Locale("en").territories:
            raise ValueError(
                f"'{v}' is not an ISO 3166 country code: use two letters such as GB, FR or US"
            )
        return code

    @field_validator("closed_weekdays")
    @classmethod
    def _weekdays(cls, v: list[str]) -> list[str]:
        out = []
        for day in v:
            d = day.strip().lower()
            if d not in WEEKDAYS:
                raise ValueError(f"'{day}' is not a weekday: use monday ... sunday")
            out.append(d)
        return out
