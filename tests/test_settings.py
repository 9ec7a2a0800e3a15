"""Deployment settings read from the environment: the PostgreSQL pool and its timeouts.
Each case loads the production settings in a child process (settings load once)."""
import json
import subprocess
import sys

from tests.support.servers import ROOT, server_env

SHOW = "from django.conf import settings; print(json.dumps(settings.DATABASES['default']))"


def load(**env: str) -> subprocess.CompletedProcess:
    environment = server_env(settings="branchline.settings.production",
                             database_url="postgres://branchline@db.example:5432/branchline", **env)
    return subprocess.run([sys.executable, "-c", f"import json, django; django.setup(); {SHOW}"], env=environment,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_postgresql_gets_a_bounded_pool_and_timeouts_by_default():
    result = load()
    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout)
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"] == {
        "pool": {"min_size": 2, "max_size": 16, "timeout": 5.0},
        "connect_timeout": 5,
        "options": "-c statement_timeout=10000",
        "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
        # Only core/sql.py's statements are prepared (they ask); the ORM's never reach this.
        "prepare_threshold": 2**31 - 1,
    }


def test_prepared_statements_can_be_turned_off_for_an_old_pgbouncer():
    result = load(BRANCHLINE_DB_PREPARED_STATEMENTS="0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["OPTIONS"]["prepare_threshold"] is None


def test_the_environment_sizes_the_pool_and_its_timeouts():
    result = load(BRANCHLINE_DB_POOL_MAX="30", BRANCHLINE_DB_POOL_MIN="4", BRANCHLINE_DB_POOL_TIMEOUT="2.5",
                  BRANCHLINE_DB_CONNECT_TIMEOUT="3", BRANCHLINE_DB_STATEMENT_TIMEOUT="0.75")
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout)["OPTIONS"]
    assert (options["pool"], options["connect_timeout"], options["options"]) == (
        {"min_size": 4, "max_size": 30, "timeout": 2.5}, 3, "-c statement_timeout=750")


def test_a_pool_too_small_for_the_worker_threads_is_refused():
    result = load(BRANCHLINE_DB_POOL_MAX="15", BRANCHLINE_DB_THREADS="8", BRANCHLINE_HTTP_THREADS="6")
    assert result.returncode != 0
    assert ("ImproperlyConfigured: BRANCHLINE_DB_POOL_MAX (15) must exceed BRANCHLINE_DB_THREADS (8) + "
            "BRANCHLINE_HTTP_THREADS (6) by at least 2") in result.stderr
