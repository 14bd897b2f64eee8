"""Property-based API fuzzing with schemathesis over the service's own OpenAPI document:
every route, a bounded number of examples, no 5xx, responses matching the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from app.api.main import create_app
from app.engine import TrustEngine
from app.settings import Settings


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("fuzz")
    eng = TrustEngine.open(
        Settings(
            data_dir=data / "d",
            log_worker=False,
            rate_limit_per_client="1000000/minute",
            rate_limit_per_api_key="1000000/minute",
        )
    )
    eng.sign_text("a known item")
    eng.log.sequence_all()
    # load the classifier now: on a busy machine its first load can outlast a request's
    # read timeout, which is start-up cost, not a fault the fuzzer should report
    eng.verify_text("a comment that loads the classifier before fuzzing")
    eng.fuzz_token = eng.store.create_api_key("fuzz", ["admin"]).token  # type: ignore[attr-defined]
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_engine: TrustEngine):
    app = create_app(engine=fuzz_engine)
    app.state.engine = fuzz_engine
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_api_never_fails_and_matches_its_schema(api_schema, fuzz_engine: TrustEngine) -> None:
    headers = {"Authorization": f"Bearer {fuzz_engine.fuzz_token}"}  # type: ignore[attr-defined]
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    ran = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def fuzz(case) -> None:
            nonlocal ran
            ran += 1
            case.call_and_validate(headers=headers, checks=checks)

        fuzz()
    assert ran >= 100


def test_schema_lists_every_route(api_schema) -> None:
    paths = set(api_schema.raw_schema["paths"])
    assert {
        "/v1/verify",
        "/v1/sign",
        "/v1/lookup/{prefix}",
        "/v1/feedback",
        "/v1/items/{sha256}/bundle",
        "/v1/log/checkpoint",
    } <= paths
    assert Path(__file__).exists()


def test_error_responses_are_documented_as_problem_json(api_schema) -> None:
    """Regression: fuzzing found 422 answers sent as problem+json but documented as JSON."""
    for path in api_schema.raw_schema["paths"].values():
        for operation in path.values():
            for status in ("401", "413", "422", "429"):
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"]
