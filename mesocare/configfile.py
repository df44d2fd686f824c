"""The clinic config file's fields, validated with pydantic (loaded only when a file is read)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mesocare.config import WEEKDAYS
from mesocare.model import AREAS


class ServiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    area: str
    technique: Literal["needle", "microneedling", "needleless"] = "needle"

    @field_validator("area")
    @classmethod
    def _area(cls, v: str) -> str:
        parts = [p.strip().lower() for p in v.replace("+", ",").split(",") if p.strip()]
        bad = [p for p in parts if p not in AREAS]
        if not parts or bad:
            raise ValueError(f"'{v}' is not a known area: use {', '.join(AREAS)} (join several with +)")
        return "+".join(parts)


class ClinicSpec(BaseModel):
    """The clinic config file (mesocare.yaml)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field("Your mesotherapy clinic", min_length=1)
    phone: str | None = None
    email: str | None = Field(None, pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$", max_length=254)
    timezone: str | None = Field(None, description="IANA zone, e.g. Europe/London; default: this machine's")
    duration: int = Field(30, ge=1, le=1440, description="default appointment length in minutes")
    paper: Literal["A4", "Letter"] = "A4"
    units: Literal["metric", "us"] = "metric"
    rules_dir: str | None = None
    templates_dir: str | None = None
    closed_weekdays: list[str] = Field(default_factory=list)
    holidays_country: str | None = None
    holidays_subdiv: str | None = None
    services: dict[str, ServiceSpec] = Field(default_factory=dict)

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
