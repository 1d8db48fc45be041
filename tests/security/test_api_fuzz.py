"""schemathesis against the live API: every operation of /api/v1/openapi.json, its default
checks (no 5xx, responses conform to the schema, bad input rejected), a bounded number of
examples each, sent to a real gunicorn on a fresh database with the demo data, as a cadre.

A schema-valid request may still break a rule the schema can't state (a date already past, an
unknown timezone, a taken code): the API answers 422 with the rule's own code. What must never
happen is the API's own schema refusing a request its document calls valid (422
`validation_error`): the check `document_describes_the_input` fails that.

The operations are collected from the document the app generates (schemathesis' lazy
`from_fixture` loader does not run under pytest 9); the first test proves the live server
serves that same document."""

import json
import tempfile
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from bench.server import running_server
from market import create_app

EXAMPLES = 6  # per operation: the whole run stays around a minute
# Under pytest-xdist every generated case carries the same node id and only the first runs:
# `make test` runs this module in a second, single-process pass.
pytestmark = pytest.mark.serial


def _generated_spec() -> dict:
    with tempfile.TemporaryDirectory(prefix="spec-") as folder:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "spec",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "INSTANCE_PATH": folder,
                "SCHEDULER": False,
            }
        )
        return app.test_client().get("/api/v1/openapi.json").get_json()


SPEC = _generated_spec()
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 422, 429]
            }
        }
    }
)
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)
TOKEN = {}  # filled by the live_api fixture
PLACEHOLDER = "cadre-token"


@schema.auth()
class Bearer:
    """The cadre's token on every operation that declares bearerAuth; schemathesis leaves it
    off on purpose when it tests a missing or bad one."""

    def get(self, case, context):
        return PLACEHOLDER  # the token exists once the server runs: swapped in by the test

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.check
def document_describes_the_input(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    body = response.json() if response.content else {}
    code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
    if code == "validation_error":
        raise AssertionError(
            "a request valid by the OpenAPI document was refused by the API's own schema: "
            f"{response.text[:300]}"
        )
    return None


def _call(base: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{base}{path}", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def live_api():
    """Base URL of the server; the cadre's token in TOKEN."""
    with running_server(workers=2) as base:
        token = _call(base, "/api/v1/auth/token", {"phone": "13800000001", "password": "demo1234"})
        TOKEN["value"] = token["access_token"]
        yield base


def test_live_server_serves_the_document_under_test(live_api):
    assert _call(live_api, "/api/v1/openapi.json") == SPEC


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_holds_its_contract(case, live_api):
    if (case.headers or {}).get("Authorization") == f"Bearer {PLACEHOLDER}":
        case.headers["Authorization"] = f"Bearer {TOKEN['value']}"
    case.call_and_validate(base_url=live_api, additional_checks=[document_describes_the_input])
