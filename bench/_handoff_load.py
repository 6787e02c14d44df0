"""The load of bench/handoff_latency.py: the leads, the event batches (hand-raisers mixed with
ordinary engagement) and the paced posters that send them at a steady rate."""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

API_KEY = "bench-key"  # _harness.child_env's NURTURE_API_KEYS
AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
LEAD_BATCH = 1000
ACCOUNT_SIZE = 4  # leads per company domain: some account signal, as in B2B funnels

FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon")
LAST = ("Park", "Okafor", "Schmidt", "Rossi", "Dubois", "Tanaka", "Silva", "Novak", "Lee")
TITLES = (
    "Head of Product", "Product Manager", "Data Analyst", "VP Engineering", "Founder",
    "Growth Lead", "Marketing Manager", "Software Engineer", "Director of Analytics", "Intern",
)  # fmt: skip
COUNTRIES = ("US", "US", "US", "CA", "GB", "DE", "FR", "NL", "BR", "IN")
INDUSTRIES = ("saas", "software", "retail", "fintech", "media", "manufacturing", "education")
PAGES = ("/", "/product", "/blog/funnels", "/blog/retention", "/docs/sdk", "/customers")


def demo_email(n: int) -> str:
    return f"hr{n}@company{n // ACCOUNT_SIZE}.example"


def lead_email(n: int) -> str:
    return f"lead{n}@company{n // ACCOUNT_SIZE}.example"


def profile(email: str, rng: random.Random) -> dict[str, Any]:
    number = int("".join(c for c in email.split("@")[0] if c.isdigit()))
    return {
        "email": email,
        "first_name": rng.choice(FIRST),
        "last_name": rng.choice(LAST),
        "title": rng.choice(TITLES),
        "company": f"Company {email.split('@')[1].split('.')[0].removeprefix('company')}",
        "country": rng.choice(COUNTRIES),
        "source": "bench",
        "attributes": {"company_size": 20 + number % 2000, "industry": rng.choice(INDUSTRIES)},
    }


def create_leads(base: str, emails: list[str]) -> dict[str, int]:
    """POST /v1/leads in batches of LEAD_BATCH; lead id by email."""
    rng = random.Random(7)
    ids: dict[str, int] = {}
    with httpx.Client(base_url=base, headers=AUTH, timeout=120) as client:
        for start in range(0, len(emails), LEAD_BATCH):
            body = [profile(e, rng) for e in emails[start : start + LEAD_BATCH]]
            answer = client.post("/v1/leads", json=body)
            if answer.status_code not in (200, 201):
                raise RuntimeError(f"POST /v1/leads: {answer.status_code} {answer.text[:500]}")
            ids |= {lead["email"]: lead["id"] for lead in answer.json()["leads"]}
    return ids


def ordinary_event(email: str, key: str, rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    site = "https://lumen-analytics.example"
    if roll < 0.15:
        return {"type": "page_view", "email": email, "event_id": key, "url": f"{site}/pricing"}
    if roll < 0.25:
        return {
            "type": "download",
            "email": email,
            "event_id": key,
            "properties": {"asset": "state-of-product-analytics.pdf"},
        }
    if roll < 0.28:
        return {"type": "webinar_attended", "email": email, "event_id": key}
    url = f"{site}{rng.choice(PAGES)}"
    return {"type": "page_view", "email": email, "event_id": key, "url": url, "title": "Lumen"}


@dataclass(frozen=True)
class Batch:
    body: bytes
    events: int
    demos: tuple[str, ...]  # hand-raiser emails in this request


def make_batches(
    count: int,
    size: int,
    share: float,
    demo_emails: list[str],
    ordinary: list[str],
    tag: str = "",
) -> list[Batch]:
    """``count`` requests of ``size`` events, a ``share`` of them demo requests (each for a
    lead of its own, once; spread evenly over the requests, at random places in each), the
    rest ordinary engagement of other leads. Event ids carry ``tag`` (default: the share):
    the API stores an event id once, so two phases need different tags."""
    rng = random.Random(11)
    demos = iter(demo_emails)
    batches = []
    for k in range(count):
        wanted = round((k + 1) * size * share) - round(k * size * share)
        places = set(rng.sample(range(size), wanted))
        events, names = [], []
        for j in range(size):
            key = f"load-{tag or share}-{k}-{j}"
            if j in places:
                email = next(demos)
                names.append(email)
                events.append({"type": "demo_requested", "email": email, "event_id": key})
            else:
                events.append(ordinary_event(rng.choice(ordinary), key, rng))
        batches.append(Batch(json.dumps(events).encode(), size, tuple(names)))
    return batches


@dataclass
class Posted:
    sent_at: dict[str, float] = field(default_factory=dict)  # demo email -> wall clock
    request_seconds: list[float] = field(default_factory=list)
    late_seconds: list[float] = field(default_factory=list)  # sent after its slot by
    failures: list[str] = field(default_factory=list)
    events: int = 0
    first: float = 0.0
    last: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / max(self.last - self.first, 1e-9)


def post_paced(base: str, batches: list[Batch], interval: float, clients: int) -> Posted:
    """Release one batch every ``interval`` seconds to ``clients`` keep-alive posters. A
    demo request's time is taken just before its request is sent. Posters that fall behind
    send late (recorded), never skip."""
    slots: queue.Queue[tuple[float, Batch] | None] = queue.Queue()
    posted = Posted()
    lock = threading.Lock()

    def poster() -> None:
        with httpx.Client(base_url=base, headers=AUTH, timeout=60) as client:
            while (item := slots.get()) is not None:
                due, batch = item
                sent = time.time()
                try:
                    answer = client.post("/v1/events", content=batch.body)
                    ok = answer.status_code == 202
                    problem = f"{answer.status_code} {answer.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, problem = False, f"{type(exc).__name__}: {exc}"
                done = time.time()
                with lock:
                    if not ok:
                        posted.failures.append(problem)
                        continue
                    posted.sent_at |= dict.fromkeys(batch.demos, sent)
                    posted.request_seconds.append(done - sent)
                    posted.late_seconds.append(max(0.0, sent - due))
                    posted.events += batch.events
                    posted.first = min(posted.first or sent, sent)
                    posted.last = max(posted.last, done)

    threads = [threading.Thread(target=poster, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start = time.time() + 0.1
    for k, batch in enumerate(batches):
        due = start + k * interval
        time.sleep(max(0.0, due - time.time()))
        slots.put((due, batch))
    for _ in threads:
        slots.put(None)
    for thread in threads:
        thread.join()
    return posted


def post_one_demo(base: str, email: str) -> float:
    """A lone demo request, as a site's form handler posts it; the time just before."""
    event = {"type": "demo_requested", "email": email, "event_id": f"idle-{email}"}
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
        client.get("/health")  # connect first: the timed request is the POST alone
        sent = time.time()
        answer = client.post("/v1/events", content=json.dumps(event).encode())
    if answer.status_code != 202:
        raise RuntimeError(f"POST /v1/events: {answer.status_code} {answer.text[:300]}")
    return sent
