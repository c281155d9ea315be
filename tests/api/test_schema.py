"""Property-based tests from the OpenAPI schema (schemathesis): whatever the parameters, the
server answers with a documented status and body, never a 500."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.case import Case

from orderscope.api.app import Service, create_app
from tests.api.conftest import AUTH, Demo, config

# The schema the server publishes (the same app, built without feeds): the tests then call the
# real server of the ``demo`` fixture with the generated requests.
# Invalid requests must be refused with a 4xx; 413 and 414 (size limits) are among the right ones.
settings_file = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "403", "404", "406", "413", "414", "422"]
            }
        }
    }
)
schema = schemathesis.openapi.from_dict(
    create_app(Service(config())).app.openapi(), config=settings_file
)


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
