"""Real-browser fixtures: a demo Branchline server on a fresh SQLite file, and Debian's
chromium driven through Playwright's sync API (Playwright cannot download browsers here).

Without /usr/bin/chromium (or the playwright package) the browser tests are skipped,
except under CI=true, where a missing browser is a failure."""
import os
import sqlite3
from pathlib import Path

import pytest

from branchline.web.demo_data import DEMO_BANK_CLIENT, demo_bank_accounts
from tests.support.idp import IdentityProvider
from tests.support.servers import ROOT, ServerProcess, free_port, manage, server_env

from .helpers import demo_bank_env

CHROMIUM = Path(os.environ.get("BRANCHLINE_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _unavailable(reason: str):
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip; run `make browser`)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")  # Playwright's sync API keeps an event loop running while open
def browser():
    """One headless chromium for the session; each test opens its own contexts."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) to run browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def demo_server_port() -> int:
    """The demo server's port, known before it starts: its bank's provider names it in the
    redirect URI. A module that needs it elsewhere overrides this fixture."""
    return free_port()


@pytest.fixture
def demo_bank(demo_server_port):
    """`make demo`'s bank (scripts/demo_idp.py): a real OpenID provider where the demo
    customers sign in (jan.kowalski, maria.silva; password branchline-demo)."""
    client_id, secret = DEMO_BANK_CLIENT
    base = f"http://127.0.0.1:{demo_server_port}"
    provider = IdentityProvider(clients=[{"client_id": client_id, "client_secret": secret,
                                          "redirect_uris": [f"{base}/sso/callback"],
                                          "backchannel_logout_uri": f"{base}/sso/backchannel-logout"}],
                                accounts=demo_bank_accounts())
    with provider:
        yield provider


@pytest.fixture
def demo_server_env(demo_bank, demo_server_port) -> dict:
    """Extra environment for the demo server: `make demo`'s, with its bank. A test module
    overrides this fixture to change it (without the bank, unless it asks for demo_bank)."""
    return demo_bank_env(demo_bank, demo_server_port)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """An SQLite database with every migration applied, made once: each demo server starts
    from a copy of it (migrating took about half of each browser test's setup)."""
    path = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    result = manage("migrate", "--noinput", "-v", "0", env=server_env(database_url=f"sqlite:///{path}"), check=False)
    assert result.returncode == 0, f"manage.py migrate failed:\n{result.stdout}\n{result.stderr}"
    return path


@pytest.fixture
def demo_server(tmp_path, demo_server_env, demo_server_port, migrated_database, scanner):
    """`branchline.settings.demo` under uvicorn on a throw-away SQLite file, migrated and
    seeded with the demo bank (staff anna/ben/olga, customers jan.kowalski/maria.silva)."""
    database = tmp_path / "branchline.sqlite3"
    with sqlite3.connect(migrated_database) as template, sqlite3.connect(database) as copy:
        template.backup(copy)  # a consistent copy, whatever the template's journal holds
    env = server_env(database_url=f"sqlite:///{database}", BRANCHLINE_CLAMD=scanner.socket_path,
                     BRANCHLINE_ATTACHMENTS_DIR=str(tmp_path / "attachments"), **demo_server_env)
    result = manage("seed_demo", env=env, check=False)
    assert result.returncode == 0, f"manage.py seed_demo failed:\n{result.stdout}\n{result.stderr}"
    log_path = tmp_path / "server.log"
    server = ServerProcess(env, port=demo_server_port, log_path=log_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if log_path.exists():  # shown by pytest only when the test failed
            print(f"--- server log ({log_path}) ---\n{log_path.read_text(errors='replace')[-5000:]}")


@pytest.fixture
def artifacts_dir() -> Path:
    """test-artifacts/ (git-ignored): screenshots for humans."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
