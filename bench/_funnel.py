"""The bench funnel (one send, window open all day) and loading enrollments fast."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from _harness import BASE_URL, FIRST_STEP, REPO, SEQUENCE, Db, note

from nurture.config import load_funnel
from nurture.core.funnel import Funnel
from nurture.core.lead import LeadProfile
from nurture.errors import ConfigInvalid
from nurture.mail.context import RenderContext
from nurture.mail.message import build_message
from nurture.mail.render import Renderer

NURTURE_YAML = """\
version: 1
stages:
  ladder: [cold, warm, mql, sql, customer]
  side: [recycled, disqualified]
  initial: cold
sequences:
  cold: {sequence}
sender:
  from: "Maya Chen <maya@lumen-analytics.example>"
  reply_to: "hello@lumen-analytics.example"
  postal_address: "Lumen Analytics Inc., 548 Market St #4410, San Francisco, CA 94104, USA"
send_window:
  days: [mon, tue, wed, thu, fri, sat, sun]
  hours: "{hours}"
frequency_cap:
  max: 1000
  per: 1d
"""

SEQUENCE_YAML = """\
id: {sequence}
name: Benchmark - one email
stages: [cold]
steps:
  - id: {step}
    send:
      template: cold/welcome.html
      subject: "Welcome{{% if lead.first_name %}}, {{{{ lead.first_name }}}}{{% endif %}}"
      preheader: Three short reads we wish we had on day one.
  - id: done
    exit: completed
"""


@dataclass(frozen=True)
class BenchFunnel:
    directory: Path
    funnel: Funnel
    time_zone: str  # the leads' zone: the window is open there for hours from now


def write_funnel(directory: Path) -> BenchFunnel:
    """One send then exit, window open all day; if this config does not take
    "00:00-24:00" yet, "00:00-23:59" in a zone where it is now about noon."""
    shutil.copytree(REPO / "templates", directory / "templates")
    (directory / "sequences").mkdir()
    (directory / "sequences" / f"{SEQUENCE}.yaml").write_text(
        SEQUENCE_YAML.format(sequence=SEQUENCE, step=FIRST_STEP)
    )
    config = directory / "nurture.yaml"
    config.write_text(NURTURE_YAML.format(sequence=SEQUENCE, hours="00:00-24:00"))
    try:
        return BenchFunnel(directory, load_funnel(directory), "UTC")
    except ConfigInvalid:
        pass
    offset = 12 - datetime.now(UTC).hour  # hours east of UTC where it is now 12:xx
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc signs are inverted
    config.write_text(NURTURE_YAML.format(sequence=SEQUENCE, hours="00:00-23:59"))
    note(f'(config refuses "00:00-24:00": window 00:00-23:59 every day, leads in {zone})')
    return BenchFunnel(directory, load_funnel(directory), zone)


def sample_mime(bench: BenchFunnel) -> bytes:
    """One email as the step runner builds it, for message-sized rows in the baseline."""
    funnel = bench.funnel
    sequence = funnel.sequences[SEQUENCE]
    renderer = Renderer(bench.directory / "templates", funnel.sender, BASE_URL)
    profile = LeadProfile(
        email="lead1@company1.example",
        first_name="Lead1",
        last_name=None,
        title="Engineer",
        company="Company 1",
        country="US",
        time_zone=bench.time_zone,
        stage="cold",
        source="bench",
        attributes={},
    )
    context = RenderContext.for_step(profile, sequence, FIRST_STEP, renderer.preview_links())
    send = sequence.steps[0].action
    rendered = renderer.render(send, context)  # type: ignore[arg-type]
    unsubscribe = f"{BASE_URL}/u/{'t' * 60}"
    mailto = f"mailto:unsubscribe@lumen-analytics.example?subject=unsubscribe%20{'t' * 60}"
    now = datetime.now(UTC)
    return build_message(
        rendered, funnel.sender, profile.email, 1, unsubscribe, mailto, now
    ).as_bytes()


# --------------------------------------------------------------------------- data


def load_enrollments(db: Db, bench: BenchFunnel, total: int, due: int, now: datetime) -> float:
    """``total`` cold leads, each enrolled at the first step; the first ``due`` are due now
    (staggered by a second each), the rest over the next 30 days. Returns seconds taken."""
    started = time.perf_counter()
    params = {
        "n": total,
        "due": due,
        "now": now,
        "tz": bench.time_zone,
        "seq": SEQUENCE,
        "step": FIRST_STEP,
        "version": bench.funnel.version,
    }
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(
            """
            INSERT INTO leads (email, first_name, title, company, country, time_zone,
                               attributes, stage, contact_status, source, created_at,
                               updated_at)
            SELECT 'lead' || i || '@company' || (i %% 500) || '.example', 'Lead' || i,
                   'Engineer', 'Company ' || (i %% 500), 'US', %(tz)s, '{}'::jsonb, 'cold',
                   'active', 'bench', %(now)s, %(now)s
            FROM generate_series(1, %(n)s) AS i
            """,
            params,
        )
        conn.execute(
            """
            INSERT INTO enrollments (lead_id, sequence_id, stage, current_step, status,
                                     next_run_at, config_version, started_at, updated_at)
            SELECT id, %(seq)s, 'cold', %(step)s, 'active',
                   CASE WHEN id <= %(due)s THEN %(now)s - make_interval(secs => id)
                        ELSE %(now)s + make_interval(secs => 60 + (id * 7919) %% 2592000)
                   END,
                   %(version)s, %(now)s, %(now)s
            FROM leads ORDER BY id
            """,
            params,
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE leads")
        conn.execute("VACUUM ANALYZE enrollments")
    return time.perf_counter() - started


# --------------------------------------------------------------------------- processes
