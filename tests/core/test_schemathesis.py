"""Property-based API test with schemathesis: generated requests for every operation of the
OpenAPI document never cause a 5xx, and every response matches its documented schema.

Bounded: a few examples per operation, so the whole run stays well under a minute.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.support.people import admin_token, bearer, new_person, patient_token

EXAMPLES = 6


@pytest.fixture(scope="module")
def fuzz_app(settings, pool):
    from service.app import create_app

    # The limiter would answer 429 to a fuzzer; it has its own tests.
    return create_app(settings.model_copy(update={"rate_limit_per_minute": 0}), pool=pool)


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


@pytest.fixture(scope="module")
def callers(pool) -> dict[str, dict[str, str]]:
    person = new_person(pool, "Fuzzed")
    return {"admin": bearer(admin_token(pool)), "patient": bearer(patient_token(pool, person))}


def test_no_server_errors_and_responses_match_the_schema(fuzz_schema, callers):
    failures, calls = [], []
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        def check(case) -> None:
            for headers in callers.values():
                response = case.call(headers=headers)
                calls.append(response.status_code)
                assert response.status_code < 500, (case.method, case.path, response.text[:300])
                case.validate_response(
                    response, checks=[response_schema_conformance, content_type_conformance]
                )

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) >= 2 * len(list(fuzz_schema.get_all_operations())), "too few requests ran"
    assert any(200 <= code < 300 for code in calls)
