"""Property-based tests from the OpenAPI schema (schemathesis): whatever the parameters, the
server answers with a documented status and body, never a 500."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.generation.case import Case

from orderscope.api.app import Service, create_app
from tests.api.conftest import AUTH, Demo, config

# The schema the server publishes (the same app, built without feeds): the tests then call the
# real server of the ``demo`` fixture with the generated requests.
schema = schemathesis.openapi.from_dict(create_app(Service(config())).app.openapi())


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_and_never_fails(case: Case, demo: Demo) -> None:
    # Every check but "schema-valid data is accepted": some constraints are not expressible in
    # the schema (start_time before end_time, a timeframe that divides a day, a row of whole
    # ticks, a date that exists), and such requests rightly get a 400 with the error body.
    case.call_and_validate(
        base_url=demo.server.url, headers=AUTH, excluded_checks=[positive_data_acceptance]
    )
