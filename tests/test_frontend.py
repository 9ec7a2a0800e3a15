"""The console's front end (frontend/): its committed API types match the live OpenAPI
document, and the page loads the built bundle under the CSP nonce."""
import json
import os
import re
import subprocess

import pytest

from branchline.api import api
from tests.support.servers import ROOT

FRONTEND = ROOT / "frontend"
SCHEMA_TYPES = FRONTEND / "src" / "api" / "schema.d.ts"


def test_committed_api_types_match_the_live_openapi_document(tmp_path):
    if not (FRONTEND / "node_modules" / "openapi-typescript").is_dir():
        if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
            pytest.fail("frontend/node_modules is missing: `make test` installs it (make assets)")
        pytest.skip("frontend/node_modules is missing: run `make assets`")
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(api.get_openapi_schema(), sort_keys=True))
    generated = subprocess.run(["node", "scripts/gen-api.mjs", "--from", str(schema), "--stdout"], cwd=FRONTEND,
                               capture_output=True, text=True, timeout=120, check=True).stdout
    assert generated == SCHEMA_TYPES.read_text(), (
        "frontend/src/api/schema.d.ts is stale against the API: run `npm --prefix frontend run gen:api` and commit it")


def test_console_page_loads_the_built_bundle_with_the_csp_nonce(world, client):
    client.force_login(world.agent)
    response = client.get("/console/")
    script = re.search(r'<script type="module" src="/static/console/console\.js" nonce="([^"]+)"></script>',
                       response.content.decode())
    assert script, "the console template must load the bundle as a module with the nonce"
    assert f"'nonce-{script.group(1)}'" in response["Content-Security-Policy"]
