"""docker-compose.yml and the Dockerfile agree with the code. Docker is not needed: the
files are parsed and checked against the Typer app, the settings and the repository."""

from __future__ import annotations

import importlib
import itertools
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

import nurture.cli  # noqa: F401  (registers the commands on the app)
from nurture.cli.app import app
from nurture.settings import ENV_PREFIX, Settings

REPO = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (REPO / "Dockerfile").read_text()
APP_SERVICES = sorted(name for name, service in SERVICES.items() if "build" in service)
APP_ROLES = ["api", "worker", "scheduler"]


def command_words(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the ["NAME=value", ...] form
        return dict(item.partition("=")[::2] for item in env)
    return {str(k): str(v) for k, v in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Service name -> condition (compose's short list form means service_started)."""
    needs = service.get("depends_on", {})
    if isinstance(needs, list):
        return dict.fromkeys(needs, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in needs.items()}


def container_port(mapping: str | int | dict[str, Any]) -> int:
    """The container side of a ports entry: "8000", "8000:8000", "127.0.0.1:80:8000"."""
    if isinstance(mapping, dict):
        return int(mapping["target"])
    return int(str(mapping).split(":")[-1].split("/")[0])


def dockerfile_instructions(keyword: str) -> list[str]:
    """Arguments of every ``keyword`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    pattern = rf"^\s*{keyword}\s+(.+)$"
    return [m.strip() for m in re.findall(pattern, joined, flags=re.MULTILINE | re.IGNORECASE)]


def nurture_commands() -> set[str]:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return set(group.commands)


class TestCommands:
    def test_every_role_runs_from_our_image(self) -> None:
        assert {"migrate", *APP_ROLES} <= set(APP_SERVICES)

    @pytest.mark.parametrize("name", APP_SERVICES)
    def test_runs_a_registered_nurture_command_or_dramatiq(self, name: str) -> None:
        words = command_words(SERVICES[name])
        assert words, f"{name}: no command"
        program, *args = words
        if program == "nurture":
            assert args, f"{name}: `nurture` without a subcommand"
            assert args[0] in nurture_commands(), f"{name}: `nurture {args[0]}` does not exist"
        elif program == "dramatiq":
            queues: list[str] = []
            if "--queues" in args:  # the names after it, up to the next option
                after = args[args.index("--queues") + 1 :]
                queues = list(itertools.takewhile(lambda a: not a.startswith("-"), after))
            modules = [a for a in args if not a.startswith("-") and not a.isdigit()]
            modules = [m for m in modules if m not in queues]
            assert modules, f"{name}: `dramatiq` needs the broker module"
            for module in modules:
                importlib.import_module(module.partition(":")[0])
            from workers.broker import broker

            declared = broker.get_declared_queues()
            assert set(queues) <= declared, f"{name}: no actor uses {set(queues) - declared}"
        else:
            pytest.fail(f"{name}: command {words} is neither `nurture …` nor `dramatiq …`")


def dramatiq_queues(service: dict[str, Any]) -> set[str] | None:
    """The queues a ``dramatiq`` service consumes (None: every queue); empty if not one."""
    program, *args = command_words(service) or [""]
    if program != "dramatiq":
        return set()
    if "--queues" not in args:
        return None
    after = args[args.index("--queues") + 1 :]
    return set(itertools.takewhile(lambda a: not a.startswith("-"), after))


class TestQueues:
    def test_every_queue_an_actor_uses_has_a_worker(self) -> None:
        from dramatiq.common import q_name

        from workers.broker import broker

        declared = {q_name(q) for q in broker.get_declared_queues()}  # delay queues: theirs
        served: set[str] = set()
        for service in SERVICES.values():
            queues = dramatiq_queues(service)
            served |= declared if queues is None else queues
        assert "handoffs" in declared
        assert declared - served == set()

    def test_the_engagement_worker_yields_the_cpu_to_the_handoff_path(self) -> None:
        shares = {name: SERVICES[name].get("cpu_shares", 1024) for name in SERVICES}
        engagement = [n for n, s in SERVICES.items() if "engagement" in (dramatiq_queues(s) or ())]
        handoff_path = [n for n, s in SERVICES.items() if "handoffs" in (dramatiq_queues(s) or ())]
        assert engagement and handoff_path
        for slow in engagement:
            for fast in [*handoff_path, "api"]:
                assert shares[slow] < shares[fast], f"{slow} vs {fast}"

    def test_hand_raisers_are_served_apart_from_the_engagement_backlog(self) -> None:
        serving = [dramatiq_queues(s) for s in SERVICES.values() if dramatiq_queues(s) != set()]
        handoffs = [q for q in serving if q is None or "handoffs" in q]
        assert handoffs
        assert all(q is not None and "engagement" not in q for q in handoffs)


class TestEnvironment:
    @pytest.mark.parametrize("name", sorted(SERVICES))
    def test_every_nurture_variable_is_a_setting(self, name: str) -> None:
        fields = set(Settings.model_fields)
        unknown = [
            var
            for var in environment(SERVICES[name])
            if var.startswith(ENV_PREFIX) and var.removeprefix(ENV_PREFIX).lower() not in fields
        ]
        assert unknown == [], f"{name}: not fields of nurture.settings.Settings"

    def test_every_variable_the_dockerfile_sets_is_a_setting(self) -> None:
        fields = set(Settings.model_fields)
        names = re.findall(rf"\b{ENV_PREFIX}(\w+)=", " ".join(dockerfile_instructions("ENV")))
        assert names
        assert [n for n in names if n.lower() not in fields] == []

    @pytest.mark.parametrize("name", APP_ROLES)
    def test_app_services_use_postgres_redis_and_mailpit(self, name: str) -> None:
        env = environment(SERVICES[name])
        assert env["NURTURE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres" in env["NURTURE_DATABASE_URL"]
        assert env["NURTURE_REDIS_URL"] == "redis://redis:6379/0"
        assert env["NURTURE_PROVIDER"] == "smtp"
        assert (env["NURTURE_SMTP_HOST"], env["NURTURE_SMTP_PORT"]) == ("mailpit", "1025")


class TestStartOrder:
    @pytest.mark.parametrize("name", sorted(SERVICES))
    def test_depends_on_names_existing_services(self, name: str) -> None:
        assert set(depends_on(SERVICES[name])) <= set(SERVICES)

    def test_migrate_waits_for_a_healthy_postgres(self) -> None:
        assert depends_on(SERVICES["migrate"])["postgres"] == "service_healthy"
        assert "healthcheck" in SERVICES["postgres"]

    @pytest.mark.parametrize("name", APP_ROLES)
    def test_app_services_wait_for_migrate_to_succeed(self, name: str) -> None:
        assert depends_on(SERVICES[name])["migrate"] == "service_completed_successfully"

    def test_migrate_runs_once(self) -> None:
        assert SERVICES["migrate"].get("restart", "no") == "no"


class TestDockerfile:
    def test_exposes_the_port_the_api_publishes(self) -> None:
        exposed = {
            int(p.split("/")[0]) for e in dockerfile_instructions("EXPOSE") for p in e.split()
        }
        published = {container_port(p) for p in SERVICES["api"]["ports"]}
        assert published == exposed
        port = environment(SERVICES["api"]).get("NURTURE_PORT")
        env_port = re.search(r"NURTURE_PORT=(\d+)", " ".join(dockerfile_instructions("ENV")))
        assert int(port or (env_port and env_port[1]) or Settings().port) in exposed

    def test_copies_what_exists(self) -> None:
        for copy in dockerfile_instructions("COPY"):
            *sources, _destination = copy.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"

    def test_installs_the_package_and_the_funnel(self) -> None:
        copied = {s for c in dockerfile_instructions("COPY") for s in c.split()[:-1]}
        assert {"pyproject.toml", "nurture", "workers"} <= copied
        assert {"nurture.yaml", "sequences", "templates"} <= copied
        assert any(r.startswith("pip install") for r in dockerfile_instructions("RUN"))
        assert dockerfile_instructions("FROM") == ["python:3.11-slim"]

    def test_runs_as_a_non_root_user(self) -> None:
        users = dockerfile_instructions("USER")
        assert users
        assert users[-1] not in {"root", "0"}
