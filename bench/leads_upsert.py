"""Lead intake speed: batches of 1,000 through the upsert service, on a fresh SQLite file.

Prints: create (new leads), re-send (same data, nothing changes) and update throughput,
plus the same-run baseline of a plain multi-row INSERT of the same rows, to show what the
service's validation, account and enrollment work costs on top of raw storage.

    .venv/bin/python bench/leads_upsert.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from nurture.services.lead_input import LeadIn
from nurture.services.leads import upsert_leads
from nurture.services.uow import Database
from nurture.store.db import make_engine
from nurture.store.migrate import upgrade
from nurture.store.models import Lead
from tests.support import START, small_funnel

TOTAL = 20_000
BATCH = 1_000


def payload(i: int, title: str) -> dict[str, object]:
    return {
        "email": f"lead{i}@company{i % 500}.example",
        "first_name": f"Lead{i}",
        "title": title,
        "company": f"Company {i % 500}",
        "country": "US",
        "attributes": {"company_size": i % 1000},
    }


def run(database: Database, title: str) -> float:
    funnel = small_funnel()
    started = time.perf_counter()
    for offset in range(0, TOTAL, BATCH):
        items = [LeadIn.model_validate(payload(i, title)) for i in range(offset, offset + BATCH)]
        with database.unit_of_work() as uow:
            upsert_leads(uow.session, funnel, items, now=START, default_time_zone="UTC")
    return TOTAL / (time.perf_counter() - started)


def baseline(database: Database) -> float:
    started = time.perf_counter()
    for offset in range(0, TOTAL, BATCH):
        fixed = {"time_zone": "UTC", "stage": "cold", "contact_status": "active"}
        rows = [
            {
                **payload(i, "x"),
                **fixed,
                "email": f"raw{i}@x.example",
                "created_at": START,
                "updated_at": START,
            }
            for i in range(offset, offset + BATCH)
        ]
        with database.unit_of_work() as uow:
            uow.session.execute(insert(Lead), rows)
    return TOTAL / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        database = Database(make_engine(url))
        print(f"sqlite create: {run(database, 'Engineer'):.0f} leads/s")
        print(f"sqlite re-send unchanged: {run(database, 'Engineer'):.0f} leads/s")
        print(f"sqlite update: {run(database, 'Manager'):.0f} leads/s")
        print(f"sqlite baseline raw insert: {baseline(database):.0f} leads/s")


if __name__ == "__main__":
    main()
