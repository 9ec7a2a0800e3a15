"""Branchline server processes for tests and benchmarks: real uvicorn processes on
127.0.0.1, started and stopped by their own pid."""
import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django_otp.oath import totp

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    """Run a manage.py command with `env` (e.g. migrate, seed_demo) in a child process."""
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=check,
                          capture_output=True, text=True, timeout=180)


TEST_SECRET_KEY = "test-only-secret-key-5e1c0a2b-7d41-4b6f-9e3a-0c8f1d2e6a57-not-for-deployments"
TEST_AUDIT_KEY = "test-only-audit-key-3f9b2c71-0e4d-4a8e-b6d2-not-for-deployments"


def server_env(*, settings: str = "branchline.settings.demo", database_url: str, redis_url: str = "",
               **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE=settings, DATABASE_URL=database_url, REDIS_URL=redis_url,
               SECRET_KEY=env.get("SECRET_KEY") or TEST_SECRET_KEY, ALLOWED_HOSTS="127.0.0.1,localhost",
               BRANCHLINE_AUDIT_KEY=env.get("BRANCHLINE_AUDIT_KEY") or TEST_AUDIT_KEY,
               BRANCHLINE_PLAIN_HTTP="1", PYTHONPATH=str(SRC))
    env.update(extra)
    return env


# Authenticator secrets of the staff this test process enrolled (production settings ask for a
# second factor): {username: base32 secret}. By username, not server: the scale-out servers share
# one database; a database where the person has none asks to enrol again, which replaces it.
AUTHENTICATORS: dict[str, str] = {}


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    """The current code of an authenticator with this base32 secret (30 s, 6 digits)."""
    return f"{totp(base64.b32decode(secret), drift=steps_ahead):06d}"


def staff_sign_in(http: httpx.Client, username: str, password: str, base_url: str = "") -> httpx.Response:
    """POST /api/staff/session as a browser would: with the CSRF token of GET /api/staff/csrf
    (a sign-in without it is refused: login CSRF). Where a second factor is asked for
    (production settings), it sets up an authenticator the first time and enters its code."""
    token = http.get(base_url + "/api/staff/csrf").json()["csrf_token"]
    response = http.post(base_url + "/api/staff/session", json={"username": username, "password": password},
                         headers={"X-CSRFToken": token})
    if response.status_code != 202:
        return response
    token = http.cookies.get("csrftoken") or token
    key = username
    if response.json()["next"] == "enrol":
        AUTHENTICATORS[key] = http.post(base_url + "/api/staff/session/totp-enrolment",
                                        headers={"X-CSRFToken": token}).json()["secret"]
    # A code already used (another sign-in this half-minute) is refused: the next one is accepted too.
    for steps_ahead in (0, 1):
        response = http.post(base_url + "/api/staff/session/second-factor",
                             json={"code": totp_code(AUTHENTICATORS[key], steps_ahead)}, headers={"X-CSRFToken": token})
        if response.status_code == 200:
            break
        time.sleep(1.1)  # django-otp pauses a second after a wrong code
    return response


class ServerProcess:
    """One `uvicorn branchline.asgi:application` process."""

    def __init__(self, env: dict, port: int | None = None, log_path: Path | None = None,
                 uvicorn_args: tuple[str, ...] = ()):
        self.env, self.port = env, port or free_port()
        self.log_path = log_path
        self.uvicorn_args = uvicorn_args  # beyond the Makefile's
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 30) -> "ServerProcess":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "branchline.asgi:application", "--app-dir", str(SRC),
             "--host", "127.0.0.1", "--port", str(self.port), "--lifespan", "on", "--log-level", "warning",
             "--ws-max-size", "1048576", "--ws-per-message-deflate", "false", "--no-proxy-headers", *self.uvicorn_args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server on port {self.port} did not start in {timeout}s")

    def stop(self, sig=signal.SIGTERM, timeout: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def kill(self) -> None:
        """An abrupt crash (SIGKILL): nothing is flushed or said goodbye to."""
        self.stop(sig=signal.SIGKILL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
