"""Schemathesis against the OpenAPI document: no generated input may cause a server error.

Requests go over real HTTP to the session's server, signed in as a national analyst (the
widest scope, so every code path that shows data runs) and as trust staff (the suppressed
paths). Invalid inputs must get a 4xx with a message, never a 5xx. Each operation gets its
own Hypothesis run, so a failure names the operation and the input.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from .conftest import WebInstance

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def clients(web: WebInstance) -> list[httpx.Client]:
    return [web.client("national"), web.client("trust")]


def test_no_server_errors_on_any_generated_input(web: WebInstance, clients: list[httpx.Client]) -> None:
    schema = schemathesis.openapi.from_url(web.base_url + "/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, "every API endpoint is in the OpenAPI document"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same inputs every run, so CI is repeatable; raise examples to explore
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            for client in clients:
                response = case.call(
                    base_url=web.base_url,
                    cookies=dict(client.cookies),
                    headers={"X-CSRF-Token": client.headers["X-CSRF-Token"]},
                    timeout=60,
                )
                case.validate_response(response, checks=[not_a_server_error])

        run()
