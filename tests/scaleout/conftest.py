"""Fixtures for the scale-out tests: PostgreSQL on 127.0.0.1:5432 (trust auth, user root
or postgres, database `test`) and Redis on 127.0.0.1:6379.

Missing services skip these tests, except under CI=true where they fail. Each test
session gets its own database (migrated and seeded) and its own bus channel and cache
prefix, so parallel runs sharing one PostgreSQL and one Redis stay apart."""
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.scaleout import Staff
from tests.support.servers import ServerProcess, manage, server_env
from tests.support.tcpproxy import TcpProxy

PG_HOST, PG_PORT, PG_ADMIN_DB = "127.0.0.1", 5432, "test"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def _unavailable(what: str) -> None:
    message = f"scale-out tests need {what}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def _admin_connection(user: str) -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_ADMIN_DB, user=user, connect_timeout=3,
                           autocommit=True)


def _drop_database(user: str, name: str) -> None:
    with _admin_connection(user) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                      "AND pid <> pg_backend_pid()", (name,))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def pg_user() -> str:
    errors = []
    for user in ("root", "postgres"):
        try:
            _admin_connection(user).close()
            return user
        except psycopg.Error as exc:
            errors.append(f"{user}: {' '.join(str(exc).split())}")
    _unavailable(f"PostgreSQL on {PG_HOST}:{PG_PORT} with trust auth for user root or postgres and a "
                 f"database '{PG_ADMIN_DB}' ({'; '.join(errors)})")


@pytest.fixture(scope="session")
def redis_ready() -> None:
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2, socket_timeout=2,
                    retry=Retry(NoBackoff(), 0)).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis on {REDIS_HOST}:{REDIS_PORT} ({exc})")


@pytest.fixture(scope="session")
def namespace() -> str:
    """This session's bus channel and cache key prefix (runs may share one Redis)."""
    return f"branchline-test:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _bus_env(namespace: str) -> dict:
    return {"BRANCHLINE_BUS_CHANNEL": f"{namespace}:events", "BRANCHLINE_CACHE_PREFIX": namespace}


@pytest.fixture(scope="session")
def scaleout_database(pg_user, redis_ready, namespace):
    """A fresh, migrated and seeded database for this test session; dropped at the end."""
    name = f"branchline_scaleout_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with _admin_connection(pg_user) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{pg_user}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        env = server_env(settings="branchline.settings.production", database_url=url, redis_url=REDIS_URL,
                         **_bus_env(namespace))
        for args in (("migrate", "--noinput", "-v", "0"), ("seed_demo",)):
            result = manage(*args, env=env, check=False)
            if result.returncode:
                pytest.fail(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
        yield url
    finally:
        _drop_database(pg_user, name)


@pytest.fixture(scope="session")
def make_env(scaleout_database, namespace):
    """make_env(redis_url=...) -> the environment of one production server process."""

    def make(redis_url: str = REDIS_URL, **extra: str) -> dict:
        return server_env(
            settings="branchline.settings.production", database_url=scaleout_database, redis_url=redis_url,
            **_bus_env(namespace),
            # Tests send bursts; the limits themselves are tested elsewhere.
            BRANCHLINE_MESSAGE_RATE="1000", BRANCHLINE_MESSAGE_BURST="10000",
            BRANCHLINE_FRAME_RATE="1000", BRANCHLINE_FRAME_BURST="100000",
            BRANCHLINE_ANONYMOUS_SESSIONS_PER_MINUTE="10000", BRANCHLINE_HISTORY_PAGES_BURST="100000",
            # Anonymous customers reconnect in these tests; their conversations must not end.
            BRANCHLINE_ANONYMOUS_GRACE_SECONDS="600",
            **extra,
        )

    return make


@pytest.fixture(scope="session")
def staff_login():
    """staff_login(server, username) -> Staff. Each member of staff signs in once per
    session (password hashing is slow on purpose); the session works on every process."""
    signed_in: dict[str, Staff] = {}

    def login(server, username: str) -> Staff:
        if username not in signed_in:
            signed_in[username] = Staff(server, username)
        return signed_in[username]

    yield login
    for staff in signed_in.values():
        staff.close()


@pytest.fixture
def sql(scaleout_database):
    """sql(query, *params) -> rows, read straight from the test database."""
    connection = psycopg.connect(scaleout_database.replace("postgres://", "postgresql://"), autocommit=True)

    def query(text: str, *params):
        return connection.execute(text, params).fetchall()

    yield query
    connection.close()


@pytest.fixture
def redis_proxy():
    """A TCP proxy to Redis that a test can cut() and restore(); stopped at teardown."""
    with TcpProxy(REDIS_HOST, REDIS_PORT) as proxy:
        yield proxy


class Launcher:
    """launch(env, env, ...) -> started ServerProcesses named A, B, ... (started in parallel);
    all are stopped at teardown and their logs are attached to a failing test's report."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.started: list[ServerProcess] = []

    def __call__(self, *envs: dict) -> list[ServerProcess]:
        new = [ServerProcess(env, log_path=self.tmp_path / f"{chr(ord('a') + len(self.started) + i)}.log")
               for i, env in enumerate(envs)]
        self.started.extend(new)
        with ThreadPoolExecutor(len(new)) as pool:
            for future in [pool.submit(server.start) for server in new]:
                future.result()
        return new

    def stop(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def launch(tmp_path):
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.stop()


@pytest.fixture
def servers(make_env, redis_proxy, launch):
    """Two server processes on the same database and bus: A reaches Redis through
    `redis_proxy`, B directly."""
    return launch(make_env(redis_url=f"redis://127.0.0.1:{redis_proxy.port}/0"), make_env())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    launcher = getattr(item, "funcargs", {}).get("launch")
    if report.when == "call" and report.failed and launcher is not None:
        for server in launcher.started:
            log = Path(server.log_path)
            tail = log.read_text(errors="replace").splitlines()[-60:] if log.exists() else []
            report.sections.append((f"server log {log.name}", "\n".join(tail)))
    return report
