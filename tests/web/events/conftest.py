"""Shared by the website-events API tests: a client with site origins configured, and helpers."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from nurture.store.models import Event
from nurture.web.app import create_app
from tests.support import API_KEY, make_runtime

AUTH = {"Authorization": f"Bearer {API_KEY}"}
SITE = "https://www.lumen.example"
VID = "vid-0123456789abcdef"


@pytest.fixture
def client(database):
    runtime = make_runtime(database, site_origins=f"{SITE}, https://docs.lumen.example/")
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def stored(database, **where):
    with database.unit_of_work(readonly=True) as uow:
        query = select(Event).order_by(Event.id).filter_by(**where)
        return list(uow.session.scalars(query))


def count(database, model):
    with database.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def add_lead(client, email="jordan@northwind.example"):
    response = client.post("/v1/leads", json={"email": email}, headers=AUTH)
    return response.json()["leads"][0]["id"]
