"""`nurture run` (everything in one process), `nurture api`, `scheduler`, `worker`, `reload`."""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import replace
from datetime import timedelta
from types import FrameType
from typing import Annotated, Any

import httpx
import typer
import uvicorn

from nurture.cli import context
from nurture.cli.app import app, console, err_console
from nurture.config.problems import ConfigProblem
from nurture.core.clock import SYSTEM_CLOCK, Clock, ScaledClock
from nurture.errors import ConfigInvalid
from nurture.mail.providers import Provider, SmtpProvider
from nurture.runtime import Runtime
from nurture.services.scheduling import Scheduler, SchedulerOptions
from nurture.web.app import create_app

log = logging.getLogger("nurture")


def _print_problems(exc: ConfigInvalid) -> None:
    for problem in exc.problems:
        err_console.print(problem.format(), highlight=False, soft_wrap=True)


def _runtime(provider: Provider | None = None, clock: Clock = SYSTEM_CLOCK) -> Runtime:
    settings = context.settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    from workers import dispatch
    from workers.runtime import set_runtime

    try:
        runtime = Runtime.start(settings, dispatch, provider=provider, clock=clock)
    except ConfigInvalid as exc:
        _print_problems(exc)
        err_console.print("[red]error:[/] the funnel is invalid; fix it and start again")
        raise typer.Exit(1) from None
    set_runtime(runtime)  # in-process actors use this runtime (same clock, same engine)
    return runtime


def _reload_on_sighup(runtime: Runtime) -> None:
    def on_sighup(_signum: int, _frame: FrameType | None) -> None:
        try:
            runtime.funnels.reload()
        except ConfigInvalid as exc:
            _print_problems(exc)

    signal.signal(signal.SIGHUP, on_sighup)


def _serve(runtime: Runtime, host: str, port: int, extra: str = "") -> None:
    settings = runtime.settings
    _reload_on_sighup(runtime)
    key_hint = "NURTURE_API_KEYS" if settings.api_keys else f"{settings.var_dir}/api-key"
    _ = settings.api_key_set  # create the local key file now, so the user can read it
    console.print(
        f"[bold green]nurture[/] serving http://{host}:{port} (API docs: "
        f"http://{host}:{port}/docs), funnel {runtime.funnels.current.version[:12]}, "
        f"API key in {key_hint}, pid {os.getpid()} (kill -HUP to reload the funnel){extra}",
        highlight=False,
        soft_wrap=True,
    )
    uvicorn.run(
        create_app(runtime), host=host, port=port, log_level=settings.log_level, access_log=False
    )


HostOpt = Annotated[str | None, typer.Option(help="Interface to bind (default NURTURE_HOST)")]
PortOpt = Annotated[int | None, typer.Option(help="Port (default NURTURE_PORT, 8000)")]


@app.command()
def run(
    host: HostOpt = None,
    port: PortOpt = None,
    threads: Annotated[int, typer.Option(help="In-process worker threads")] = 4,
    smtp_catcher: Annotated[
        bool,
        typer.Option(
            help="Start a local SMTP server (NURTURE_SMTP_PORT) and send through it; "
            "emails land in var/outbox/smtp/"
        ),
    ] = False,
    clock_speed: Annotated[
        float, typer.Option(help="Demo: time passes this many times faster (3600 = 1 h/s)")
    ] = 1.0,
) -> None:
    """Run the whole engine in one process: API, scheduler and in-process workers.

    Uses the embedded defaults unless NURTURE_* settings say otherwise: SQLite in
    var/nurture.db, an in-process broker, emails written to var/outbox/. Run
    `nurture migrate` first (`make run` does both).

    Example (a day of the funnel in 24 seconds, emails caught locally):

        nurture run --smtp-catcher --clock-speed 3600
    """
    settings = context.settings()
    catcher = None
    provider: Provider | None = None
    extra = ""
    if smtp_catcher:
        from nurture.mail.catcher import SmtpCatcher

        catcher = SmtpCatcher(
            settings.smtp_host, settings.smtp_port, settings.var_dir / "outbox" / "smtp"
        )
        catcher.start()
        provider = SmtpProvider(settings.smtp_host, settings.smtp_port, timeout=10.0)
        extra = f", SMTP catcher on {settings.smtp_host}:{settings.smtp_port}"
    clock: Clock = ScaledClock(clock_speed) if clock_speed != 1.0 else SYSTEM_CLOCK
    runtime = _runtime(provider, clock)
    from workers.inprocess import start_workers

    worker = start_workers(threads)
    scheduler = Scheduler(
        runtime.database, runtime.provider, runtime.clock, funnel=lambda: runtime.funnels.current
    )
    scheduler.start_thread()
    try:
        _serve(runtime, host or settings.host, port or settings.port, extra)
    finally:
        scheduler.stop()
        worker.stop(timeout=5000)
        if catcher is not None:
            catcher.stop()


@app.command()
def api(host: HostOpt = None, port: PortOpt = None) -> None:
    """Serve only the HTTP API (scheduler and workers run elsewhere, over Redis)."""
    runtime = _runtime()
    _serve(runtime, host or runtime.settings.host, port or runtime.settings.port)


_DEFAULTS = SchedulerOptions()


def _seconds(help_text: str) -> Any:
    return typer.Option(min=0.1, help=help_text)


@app.command()
def scheduler(
    lease_seconds: Annotated[
        float,
        _seconds(
            "Seconds a claimed enrollment stays with its worker; if the worker dies, it is "
            "claimed again after this"
        ),
    ] = _DEFAULTS.lease.total_seconds(),
    reconcile_after_seconds: Annotated[
        float,
        _seconds(
            "Seconds a message may stay in `sending` before its worker counts as dead: it is "
            "then looked up at the provider, or marked `unknown` and never sent again"
        ),
    ] = _DEFAULTS.stuck_after.total_seconds(),
    requeue_after_seconds: Annotated[
        float,
        _seconds(
            "Seconds a message may stay `queued` with no attempt before its delivery job "
            "counts as lost and is enqueued again; keep it above the longest retry backoff"
        ),
    ] = _DEFAULTS.requeue_after.total_seconds(),
    reconcile_every_seconds: Annotated[
        float, _seconds("Seconds between two searches for stuck or lost messages")
    ] = _DEFAULTS.reconcile_every.total_seconds(),
    chunk_size: Annotated[
        int,
        typer.Option(
            min=1,
            max=1000,
            help="Enrollments per run_steps job, and so emails per delivery job: larger "
            "chunks are faster, smaller ones spread a small backlog over more worker threads",
        ),
    ] = _DEFAULTS.chunk,
) -> None:
    """Run only the scheduler: claim due enrollments and enqueue them for the workers;
    now and then resolve messages stuck in `sending` and re-enqueue lost deliveries.

    Several schedulers may run at once (claims are leases, taken with SKIP LOCKED on
    PostgreSQL). Stops cleanly on SIGTERM or Ctrl-C. The defaults suit production; tests
    and demos shorten them.
    """
    options = replace(
        _DEFAULTS,
        lease=timedelta(seconds=lease_seconds),
        stuck_after=timedelta(seconds=reconcile_after_seconds),
        requeue_after=timedelta(seconds=requeue_after_seconds),
        reconcile_every=timedelta(seconds=reconcile_every_seconds),
        chunk=chunk_size,
    )
    runtime = _runtime()
    loop = Scheduler(
        runtime.database,
        runtime.provider,
        runtime.clock,
        options,
        funnel=lambda: runtime.funnels.current,
    )
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    console.print("[bold green]nurture[/] scheduler running", highlight=False)
    try:
        loop.run()
    except KeyboardInterrupt:
        loop.stop()


@app.command()
def worker(
    processes: Annotated[int, typer.Option(help="Worker processes")] = 2,
    threads: Annotated[int, typer.Option(help="Threads per process")] = 8,
) -> None:
    """Run Dramatiq workers against Redis (NURTURE_REDIS_URL); same as `dramatiq workers`."""
    if not context.settings().redis_url:
        err_console.print(
            "[red]error:[/] NURTURE_REDIS_URL is not set; `nurture run` has in-process workers"
        )
        raise typer.Exit(2)
    args = ["dramatiq", "workers", "--processes", str(processes), "--threads", str(threads)]
    os.execvp(sys.executable, [sys.executable, "-m", *args])


@app.command()
def reload(
    url: Annotated[str | None, typer.Option(help="Engine URL (default NURTURE_BASE_URL)")] = None,
) -> None:
    """Ask the running engine to reload the funnel files.

    A bad funnel is refused and the engine keeps the last good version; the problems are
    printed here. `kill -HUP <pid>` does the same from a shell.
    """
    settings = context.settings()
    key = next(iter(settings.api_key_set))
    target = (url or settings.base_url).rstrip("/") + "/v1/funnel/reload"
    try:
        response = httpx.post(target, headers={"Authorization": f"Bearer {key}"}, timeout=30.0)
    except httpx.HTTPError as exc:
        err_console.print(f"[red]error:[/] cannot reach the engine at {target}: {exc}")
        raise typer.Exit(2) from None
    body = response.json()
    if response.status_code == 200:
        state = "changed" if body["changed"] else "unchanged"
        console.print(f"[green]reloaded[/]: version {body['version'][:12]} ({state})")
        return
    for problem in body.get("errors", []):
        err_console.print(ConfigProblem(**problem).format(), highlight=False, soft_wrap=True)
    err_console.print(f"[red]refused[/] ({response.status_code}): {body.get('detail')}")
    raise typer.Exit(1)
