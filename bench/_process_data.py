"""The stored history bench/process.py processes: leads, accounts, their cold enrollments and
sent emails, and engagement events, written with COPY (kept apart so the bench itself reads
as the steps it times).

Seeded, so every run scores the same history (relative to its own start time):

- LEADS leads, all ``cold`` and enrolled in the example funnel's cold sequence. A tenth use
  free mail and have no account; the rest work at one of COMPANIES companies, drawn at
  random, so many accounts have two or more leads (the account signal) and some none. Titles,
  company sizes, industries and countries mix good and poor fit (grades A to D).
- Three sent emails per lead from the cold sequence (welcome, metrics-guide, soft-ask), so
  email events have a message, and ``clicked`` on ``soft-ask`` scores its own rule.
- EVENTS events: one per lead, the rest spread by a heavy-tailed activity weight (most leads
  do little, a few a lot: up to about 50 events), each lead's events within a burst of up to
  ten days in the last 45. Mix in ``EVENT_MIX``: opens (a tenth machine-flagged: they never
  score), clicks, page views (``/pricing``, a few ``/careers``), downloads, webinars, trials,
  a few demo requests and contact-sales forms, some unsubscribes.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from _harness import Db

LEADS = 20_000
EVENTS = 100_000
COMPANIES = 12_000
FREE_MAIL = 0.10
SEQUENCE = "cold-education"
SENT_STEPS = ("welcome", "metrics-guide", "soft-ask")
#: (type, share); a page view's URL and a form's name are drawn apart.
EVENT_MIX = (
    ("opened", 0.40),
    ("clicked", 0.14),
    ("page_view", 0.33),
    ("download", 0.05),
    ("webinar_attended", 0.02),
    ("trial_started", 0.012),
    ("form_submit", 0.012),
    ("demo_requested", 0.003),
    ("unsubscribed", 0.003),
)
MACHINE_OPENS = 0.10
#: Activity weights are Pareto (alpha 1.2) cut at this: the busiest leads get about 50
#: events; uncut, a handful would get over a thousand (a bot, not a person).
MAX_WEIGHT = 50.0
PAGES = (
    ("/", 0.25),
    ("/features", 0.20),
    ("/blog/activation-metrics", 0.20),
    ("/pricing", 0.20),
    ("/customers", 0.12),
    ("/careers", 0.03),
)
FORMS = (("newsletter", 0.8), ("contact-sales", 0.2))
TITLES = (
    "Head of Product",
    "VP Engineering",
    "Director of Growth",
    "Founder & CEO",
    "Product Manager",
    "Data Analyst",
    "Software Engineer",
    "Marketing Manager",
    "Sales Representative",
    "Student",
)
INDUSTRIES = ("saas", "software", "ecommerce", "retail", "fintech", "media", "manufacturing")
SIZES = (12, 45, 150, 400, 1500, 8000)
COUNTRIES = ("US", "US", "US", "GB", "DE", "FR", "CA", "IN", "BR", "NL")


@dataclass(frozen=True)
class History:
    leads: int
    events: int
    accounts: int
    machine: int  # events flagged machine
    by_type: dict[str, int]


def load_history(db: Db, version: str, now: datetime) -> History:
    """Write the whole history; returns what it holds."""
    rng = random.Random(6)
    with psycopg.connect(db.conninfo) as conn:
        accounts = _accounts(conn, rng, now)
        _leads(conn, rng, accounts, now)
        lead_ids = [int(i) for (i,) in conn.execute("SELECT id FROM leads ORDER BY id")]
        conn.execute(
            """
            INSERT INTO enrollments (lead_id, sequence_id, stage, current_step, status,
                                     next_run_at, config_version, started_at, updated_at)
            SELECT id, %(seq)s, 'cold', 'pause-before-ask', 'active',
                   %(now)s + interval '30 days', %(version)s, %(now)s - interval '20 days',
                   %(now)s
            FROM leads ORDER BY id
            """,
            {"seq": SEQUENCE, "now": now, "version": version},
        )
        conn.execute(
            """
            INSERT INTO messages (enrollment_id, lead_id, sequence_id, step_id, occurrence,
                                  config_version, to_address, subject, status, attempts,
                                  provider, created_at, updated_at, sent_at)
            SELECT e.id, e.lead_id, e.sequence_id, s.step, 1, e.config_version, l.email,
                   'Hello', 'sent', 1, 'memory', s.sent, s.sent, s.sent
            FROM enrollments e JOIN leads l ON l.id = e.lead_id
            CROSS JOIN LATERAL (VALUES (%(s1)s, %(now)s - interval '44 days'),
                                       (%(s2)s, %(now)s - interval '40 days'),
                                       (%(s3)s, %(now)s - interval '36 days')) AS s(step, sent)
            ORDER BY e.id, s.sent
            """,
            {"now": now, "s1": SENT_STEPS[0], "s2": SENT_STEPS[1], "s3": SENT_STEPS[2]},
        )
        messages: dict[int, list[int]] = {}
        for message_id, lead_id in conn.execute("SELECT id, lead_id FROM messages ORDER BY id"):
            messages.setdefault(int(lead_id), []).append(int(message_id))
        history = _events(conn, rng, lead_ids, messages, now)
        conn.commit()
        conn.autocommit = True
        for table in ("accounts", "leads", "enrollments", "messages", "events"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return History(LEADS, history[0], len(accounts), history[1], history[2])


Companies = dict[int, tuple[str, dict[str, object]]]  # account id -> (domain, attributes)


def _accounts(conn: psycopg.Connection[object], rng: random.Random, now: datetime) -> Companies:
    with conn.cursor().copy(
        "COPY accounts (domain, name, attributes, created_at, updated_at) FROM STDIN"
    ) as copy:
        for n in range(COMPANIES):
            attributes = {"industry": rng.choice(INDUSTRIES), "company_size": rng.choice(SIZES)}
            copy.write_row(
                (f"company{n}.example", f"Company {n}", json.dumps(attributes), now, now)
            )
    rows = conn.execute("SELECT id, domain, attributes FROM accounts ORDER BY id")
    return {int(i): (str(domain), dict(attributes)) for i, domain, attributes in rows}  # type: ignore[misc]


def _leads(
    conn: psycopg.Connection[object], rng: random.Random, companies: Companies, now: datetime
) -> None:
    accounts = sorted(companies)
    columns = (
        "email, first_name, title, company, country, time_zone, account_id, attributes, stage,"
        " contact_status, source, stage_entered_at, created_at, updated_at"
    )
    with conn.cursor().copy(f"COPY leads ({columns}) FROM STDIN") as copy:
        for n in range(LEADS):
            title = rng.choice(TITLES)
            if rng.random() < FREE_MAIL:
                email, account, company = f"person{n}@gmail.com", None, None
                attributes: dict[str, object] = {}
            else:
                account = rng.choice(accounts)
                domain, attributes = companies[account]
                email, company = f"person{n}@{domain}", domain.split(".")[0].title()
            entered = now - timedelta(days=50)
            copy.write_row(
                (
                    email, f"Person{n}", title, company, rng.choice(COUNTRIES), "UTC", account,
                    json.dumps(attributes), "cold", "active", "bench", entered, entered, entered,
                )
            )  # fmt: skip


def _events(
    conn: psycopg.Connection[object],
    rng: random.Random,
    lead_ids: list[int],
    messages: dict[int, list[int]],
    now: datetime,
) -> tuple[int, int, dict[str, int]]:
    weights = [min(rng.paretovariate(1.2), MAX_WEIGHT) for _ in lead_ids]
    owners = lead_ids + rng.choices(lead_ids, weights, k=EVENTS - len(lead_ids))
    bursts = {lead: now - timedelta(days=rng.uniform(10, 45)) for lead in lead_ids}
    kinds, kind_weights = zip(*EVENT_MIX, strict=True)
    pages, page_weights = zip(*PAGES, strict=True)
    forms, form_weights = zip(*FORMS, strict=True)
    machine = 0
    by_type: dict[str, int] = {}
    columns = (
        "lead_id, message_id, type, source, source_event_id, occurred_at, received_at, url,"
        " user_agent, ip, machine, machine_reason, data"
    )
    with conn.cursor().copy(f"COPY events ({columns}) FROM STDIN") as copy:
        for serial, lead in enumerate(owners):
            kind = rng.choices(kinds, kind_weights)[0]
            at = bursts[lead] + timedelta(seconds=rng.uniform(0, 10 * 86_400))
            message = url = reason = None
            data: dict[str, object] = {}
            source = "website"
            flagged = False
            if kind in ("opened", "clicked", "unsubscribed"):
                source = "memory"
                message = rng.choice(messages[lead])
                flagged = kind == "opened" and rng.random() < MACHINE_OPENS
                reason = "provider flag" if flagged else None
                if kind == "clicked":
                    url = f"https://lumen-analytics.example/guides/{rng.randint(1, 9)}"
            elif kind == "page_view":
                url = "https://lumen-analytics.example" + rng.choices(pages, page_weights)[0]
            elif kind == "form_submit":
                data = {"form": rng.choices(forms, form_weights)[0]}
            machine += flagged
            by_type[kind] = by_type.get(kind, 0) + 1
            copy.write_row(
                (
                    lead, message, kind, source, f"bench-{serial}", at, at, url,
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)", "203.0.113.7", flagged,
                    reason, json.dumps(data),
                )
            )  # fmt: skip
    return len(owners), machine, by_type
