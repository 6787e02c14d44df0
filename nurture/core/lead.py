"""A lead as the pure core sees it: the fields templates and conditions may use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LEAD_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "country",
    "time_zone",
    "stage",
    "source",
)


@dataclass(frozen=True)
class LeadProfile:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    company: str | None = None
    country: str | None = None
    time_zone: str = "UTC"
    stage: str = "cold"
    source: str | None = None
    attributes: Mapping[str, object] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def facts(self) -> dict[str, object]:
        """Fields and custom attributes in one mapping, for branch conditions."""
        merged: dict[str, object] = dict(self.attributes)
        merged.update({name: getattr(self, name) for name in LEAD_FIELDS})
        return merged

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> LeadProfile:
        known = {k: v for k, v in data.items() if k in LEAD_FIELDS}
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            raise TypeError("attributes must be a mapping")
        return cls(**known, attributes=dict(attributes))  # type: ignore[arg-type]
