"""Fixtures for the application layer: an engine on a temporary data dir, a client, a Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.engine import TrustEngine
from app.settings import Settings
from tests.support.servers import OwnRedis


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # the background log worker is tested on its own; here sequencing is explicit
    return Settings(data_dir=tmp_path / "data", database_url=database_url, log_worker=False)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def engine(settings: Settings) -> Iterator[TrustEngine]:
    eng = TrustEngine.open(settings)
    yield eng
    eng.close()


@pytest.fixture
def client(engine: TrustEngine) -> Iterator[TestClient]:
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def sign_token(engine: TrustEngine) -> str:
    return engine.store.create_api_key("signer", ["sign"]).token


@pytest.fixture
def admin_token(engine: TrustEngine) -> str:
    return engine.store.create_api_key("admin", ["admin"]).token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()
