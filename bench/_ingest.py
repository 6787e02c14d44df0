"""Pieces of bench/ingest.py: sent messages to match against, SendGrid-format batches, the
signing key, posting them concurrently, and the raw-insert baseline (kept apart so the
bench itself reads as the steps it times)."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psycopg
from _harness import Db
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
#: Share of each kind in a batch (bounce: hard "bounce" and soft "blocked"). A message
#: bounces once and gets no other event, as in a real mailing (the first messages bounce).
MIX = (("delivered", 0.45), ("open", 0.33), ("click", 0.20), ("bounce", 0.02))
RETRIED = 0.02  # of each batch: events sent again from an earlier batch (a provider retry)
#: How many batches back retried events come from: a provider retries a batch after it
#: failed or timed out, so the original is long committed (not one still in flight).
RETRY_LAG = 16
TWICE = 0.005  # of each batch: the same event twice in one batch
NO_OUR_ID = 0.05  # events without custom_args: matched by sg_message_id and recipient
USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)


def make_app() -> Any:
    """The API app as ``nurture api`` builds it, for ``uvicorn --factory --workers N``
    (``nurture api`` serves one process; each worker builds its own runtime here)."""
    from nurture.cli.context import settings
    from nurture.runtime import Runtime
    from nurture.web.app import create_app
    from workers import dispatch
    from workers.runtime import set_runtime

    runtime = Runtime.start(settings(), dispatch)
    set_runtime(runtime)
    return create_app(runtime)


def provider_id(message_id: int) -> str:
    """The X-Message-Id the bench pretends SendGrid returned for our message."""
    return f"bnch{message_id:08d}Xq3LkT1aZ9"


def load_sent(db: Db, now: datetime) -> int:
    """One SendGrid message, sent an hour ago, per enrolled lead; returns how many."""
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(
            """
            INSERT INTO messages (enrollment_id, lead_id, sequence_id, step_id, occurrence,
                                  config_version, to_address, subject, status, attempts,
                                  provider, provider_message_id, created_at, updated_at,
                                  sent_at)
            SELECT e.id, e.lead_id, e.sequence_id, e.current_step, 1, e.config_version,
                   l.email, 'Welcome', 'sent', 1, 'sendgrid',
                   'bnch' || lpad(e.id::text, 8, '0') || 'Xq3LkT1aZ9',
                   %(sent)s, %(sent)s, %(sent)s
            FROM enrollments e JOIN leads l ON l.id = e.lead_id ORDER BY e.id
            """,
            {"sent": now - timedelta(hours=1)},
        )
        row = conn.execute("SELECT count(*) FROM messages").fetchone()
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE messages")
    return int(row[0]) if row else 0


def sent_messages(db: Db) -> list[tuple[int, str]]:
    with psycopg.connect(db.conninfo) as conn:
        return [
            (int(i), str(to))
            for i, to in conn.execute("SELECT id, to_address FROM messages ORDER BY id")
        ]


@dataclass
class Batches:
    """Request bodies, and how many distinct events they hold (what must be stored)."""

    bodies: list[bytes] = field(default_factory=list)
    events: int = 0
    distinct: int = 0


def make_batches(sent: list[tuple[int, str]], count: int, size: int, now: datetime) -> Batches:
    """``count`` JSON bodies of ``size`` SendGrid events on ``sent`` messages, with retried
    and doubled events mixed in (the same sg_event_id: stored once)."""
    rng = random.Random(5)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    base = int(now.timestamp())
    out = Batches()
    earlier: list[list[dict[str, Any]]] = []
    seen: set[str] = set()
    serial = 0
    split = min(len(sent) // 4, int(count * size * MIX[-1][1] * 1.2) + 1)
    bouncing, reached = iter(sent[:split]), sent[split:]
    for number in range(count):
        batch: list[dict[str, Any]] = []
        if number >= RETRY_LAG:
            batch.extend(rng.sample(earlier[number - RETRY_LAG], int(size * RETRIED)))
        while len(batch) < size - int(size * TWICE):
            serial += 1
            kind = rng.choices(kinds, weights)[0]
            bounced = next(bouncing, None) if kind == "bounce" else None
            if kind == "bounce" and bounced is None:
                kind = "delivered"  # every bouncing message has bounced already
            message_id, email = bounced or rng.choice(reached)
            batch.append(_event(rng, serial, kind, message_id, email, base))
        batch.extend(rng.sample(batch, size - len(batch)))
        rng.shuffle(batch)
        out.bodies.append(json.dumps(batch, separators=(",", ":")).encode())
        out.events += len(batch)
        seen.update(e["sg_event_id"] for e in batch)
        earlier.append(batch)
    out.distinct = len(seen)
    return out


def _event(
    rng: random.Random, serial: int, kind: str, message_id: int, email: str, base: int
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "email": email,
        "timestamp": base - rng.randint(60, 3000),
        "smtp-id": f"<{provider_id(message_id)}@geopod-ismtpd-3>",
        "event": kind,
        "category": ["nurture", "bench-send"],
        "sg_event_id": f"ZGVsaXZlcmVkLTAtMjQ{serial:010d}",
        "sg_message_id": f"{provider_id(message_id)}.filter0001.16648.5515E0B88.0",
    }
    if rng.random() >= NO_OUR_ID:
        event["nurture_message_id"] = str(message_id)
    if kind == "delivered":
        event["response"] = "250 2.0.0 OK  1700000000 a1-20020a05 - gsmtp"
    elif kind in ("open", "click"):
        event["useragent"] = USER_AGENT
        event["ip"] = f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        event["sg_machine_open"] = kind == "open" and rng.random() < 0.1
        if kind == "click":
            event["url"] = f"https://lumen-analytics.example/guides/{rng.randint(1, 9)}"
            event["url_offset"] = {"index": 0, "type": "html"}
    else:
        hard = rng.random() < 0.5
        event["type"] = "bounce" if hard else "blocked"
        event["status"] = "5.1.1" if hard else "4.7.1"
        event["reason"] = "550 5.1.1 The email account that you tried to reach does not exist"
        event["bounce_classification"] = "Invalid Address" if hard else "Reputation"
    return event


class Signer:
    """A P-256 key pair like SendGrid's; the public half as the console shows it."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public = base64.b64encode(der).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: timestamp,
            "Content-Type": "application/json",
        }


@dataclass
class Posted:
    seconds: float
    latencies: list[float]
    answers: dict[str, int]


def post_all(url: str, bodies: list[bytes], signer: Signer, clients: int) -> Posted:
    """Post every body with ``clients`` concurrent keep-alive connections; each body is
    signed as it is sent (the timestamp must be fresh). Raises on any non-2xx."""
    return asyncio.run(_post_all(url, bodies, signer, clients))


async def _post_all(url: str, bodies: list[bytes], signer: Signer, clients: int) -> Posted:
    queue = list(reversed(bodies))
    latencies: list[float] = []
    answers = {"stored": 0, "duplicates": 0, "unmatched": 0, "ignored": 0}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                headers = signer.headers(body)
                started = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if not response.is_success:
                    raise RuntimeError(f"{response.status_code}: {response.text[:500]}")
                for key, value in response.json().items():
                    answers[key] += value

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return Posted(time.perf_counter() - started, latencies, answers)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


COLUMNS = (
    ("lead_id", "bigint"), ("message_id", "bigint"), ("type", "text"), ("source", "text"),
    ("source_event_id", "text"), ("occurred_at", "timestamptz"),
    ("received_at", "timestamptz"), ("url", "text"), ("user_agent", "text"), ("ip", "text"),
    ("machine", "boolean"), ("machine_reason", "text"), ("bounce", "text"), ("data", "jsonb"),
)  # fmt: skip
_NAMES = ", ".join(name for name, _ in COLUMNS)
RAW_INSERT = (
    f"INSERT INTO events ({_NAMES}) SELECT {_NAMES.replace('data', 'data::jsonb')} "
    "FROM unnest("
    + ", ".join(f"%b::{'text' if kind == 'jsonb' else kind}[]" for _, kind in COLUMNS)
    + f") AS u({_NAMES}) ON CONFLICT (source, source_event_id) DO NOTHING"
)


def raw_inserts(db: Db, bodies: list[bytes], size: int, now: datetime) -> tuple[int, float]:
    """The same events as plain rows, ``size`` per INSERT … ON CONFLICT DO NOTHING and a
    commit each (as the API does), on one connection: the database's ceiling for this table,
    its indexes and foreign keys. One array per column (unnest), in binary: the fastest
    multi-row form through psycopg (a VALUES list of 14,000 parameters, or text-format
    arrays, which psycopg escapes element by element, spend longer in the client than in the
    server). Rows go under source 'baseline'. Returns (rows, seconds)."""
    owners = dict(_owners(db))
    rows: list[tuple[Any, ...]] = []
    for body in bodies:
        for event in json.loads(body):
            message_id = int(event.get("nurture_message_id") or event["smtp-id"][5:13])
            kind = {"open": "opened", "click": "clicked", "bounce": "bounced"}.get(
                event["event"], event["event"]
            )
            rows.append(
                (
                    owners[message_id], message_id, kind, "baseline", event["sg_event_id"],
                    datetime.fromtimestamp(event["timestamp"], now.tzinfo), now,
                    event.get("url"), event.get("useragent"), event.get("ip"), False, None,
                    "hard" if kind == "bounced" else None, json.dumps(event),
                )
            )  # fmt: skip
    with psycopg.connect(db.conninfo) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        for start in range(0, len(rows), size):
            columns = [list(values) for values in zip(*rows[start : start + size], strict=True)]
            cursor.execute(RAW_INSERT.encode(), columns)
            conn.commit()
        seconds = time.perf_counter() - started
    return len(rows), seconds


def _owners(db: Db) -> list[tuple[int, int]]:
    with psycopg.connect(db.conninfo) as conn:
        return [(int(m), int(lead)) for m, lead in conn.execute("SELECT id, lead_id FROM messages")]


def stored(db: Db, source: str) -> int:
    with psycopg.connect(db.conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM events WHERE source = %s", (source,)).fetchone()
    return int(row[0]) if row else 0
