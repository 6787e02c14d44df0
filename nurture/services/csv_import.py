"""Reading leads from a CSV file: each row becomes a LeadIn or an error with its line.

Known columns fill lead fields; any other column becomes a custom attribute (numbers are
stored as numbers so that branch conditions like ``company_size >= 200`` work).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from nurture.core.funnel import Funnel
from nurture.services.lead_input import LeadIn, Scalar
from nurture.services.leads import unknown_stage

FIELDS = set(LeadIn.model_fields) - {"attributes"}
ALIASES = {
    "e-mail": "email",
    "email address": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "timezone": "time_zone",
    "job title": "title",
    "company name": "company",
    "domain": "company_domain",
}


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line where the record starts; the header is line 1
    lead: LeadIn | None
    error: str | None = None
    email: str | None = None


def column_name(header: str) -> str:
    name = header.strip().lower()
    name = ALIASES.get(name, name)
    return name.replace(" ", "_").replace("-", "_")


def _scalar(text: str) -> Scalar:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_rows(stream: TextIO) -> Iterator[Row]:
    """Yield one Row per CSV record, in file order."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        return
    columns = [column_name(h) for h in header]
    if "email" not in columns:
        raise ValueError(f"line 1: no 'email' column in the header (found: {', '.join(header)})")
    start = reader.line_num + 1
    for record in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        yield _to_row(line, columns, record)


def _to_row(line: int, columns: list[str], record: list[str]) -> Row:
    if len(record) > len(columns):
        return Row(line, None, f"{len(record)} cells but the header has {len(columns)}")
    data: dict[str, object] = {}
    attributes: dict[str, Scalar] = {}
    for name, cell in zip(columns, record, strict=False):
        value = cell.strip()
        if not value:
            continue
        if name in FIELDS:
            data[name] = value
        else:
            attributes[name] = _scalar(value)
    if attributes:
        data["attributes"] = attributes
    email = str(data.get("email", "")) or None
    try:
        return Row(line, LeadIn.model_validate(data), email=email)
    except ValidationError as exc:
        return Row(line, None, _reason(exc), email=email)


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "row"
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "is required"
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


def count_records(path: Path) -> int:
    """Number of data records, for the progress bar."""
    with path.open(newline="", encoding="utf-8-sig") as stream:
        return max(sum(1 for _ in csv.reader(stream)) - 1, 0)


def stage_problem(funnel: Funnel, row: Row) -> str | None:
    """A row naming a stage the funnel does not have is refused, like any bad field."""
    message = unknown_stage(funnel, row.lead.stage if row.lead else None)
    return f"stage: {message}" if message else None
