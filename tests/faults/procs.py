"""Real processes for the fault tests: flask commands, a gunicorn that can be killed -9 and
started again on the same database, the scheduler process, a private PostgreSQL cluster."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.server import ROOT, free_port

FLASK = [sys.executable, "-m", "flask", "--app", "app"]


def app_env(database_url: str, instance: str, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MARKET_INSTANCE_PATH": instance,
        "SECRET_KEY": "faults",
        "SCHEDULER": "off",
        "LOG_JSON": "0",
        "REDIS_URL": "",
        **extra,
    }


def flask(env: dict, *args: str, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*FLASK, *args], cwd=ROOT, env=env, check=check, capture_output=True, text=True
    )


SETUP = """
import sys
from flask_migrate import upgrade
from app import app
from market.extensions import db
from tests.conftest import FAST_HASH
from bench.data import rush
from market.demo.load import load_demo
app.config["PASSWORD_HASH_METHOD"] = FAST_HASH  # the hash names its method: logins are quick
with app.app_context():
    upgrade()
    load_demo()
    db.session.commit()
    if int(sys.argv[1]):
        rush.prepare(int(sys.argv[1]), int(sys.argv[1]))
        db.session.commit()
"""


def prepare(env: dict, rush: int = 0) -> None:
    """`flask db upgrade`, `market demo` and `market rush --stalls N --vendors N` in one
    process (three interpreters cost seconds each on a busy machine), with the tests' cheaper
    password hash so that logging in a crowd of vendors takes no minute."""
    subprocess.run(
        [sys.executable, "-c", SETUP, str(rush)], cwd=ROOT, env=env, check=True, capture_output=True
    )


class Gunicorn:
    """The app under gunicorn in a process group of its own, so kill -9 takes every worker."""

    def __init__(self, env: dict, workers: int = 2):
        self.env, self.workers = env, workers
        self.proc = None
        self.url = None
        self.log = Path(env["MARKET_INSTANCE_PATH"]) / "server.log"

    def start(self, timeout: float = 60) -> str:
        port = free_port()
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(port)}
        env["WEB_CONCURRENCY"] = str(self.workers)
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        wait_until(lambda: get(self.url + "/healthz")[0] == 200, timeout, "gunicorn up")
        return self.url

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Quick shutdown (SIGQUIT); what is left after two seconds is killed."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.kill9()


def wait_until(predicate, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := predicate():
                return value
        except OSError:  # not listening yet (or restarting): ask again
            pass
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}")


def call(url: str, method="GET", body=None, headers=None, timeout=30) -> tuple[int, dict | str]:
    """One HTTP request; (status, JSON body or text). Connection errors propagate (OSError)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw, kind = (
                response.status,
                response.read(),
                response.headers.get_content_type(),
            )
    except urllib.error.HTTPError as e:
        status, raw, kind = e.code, e.read(), e.headers.get_content_type()
    text = raw.decode("utf-8", "replace")
    return status, (json.loads(text) if kind == "application/json" and text else text)


def get(url: str, **kw):
    return call(url, **kw)


def token(base: str, phone: str, password: str = "demo1234") -> dict:
    status, body = call(f"{base}/api/v1/auth/token", "POST", {"phone": phone, "password": password})
    assert status == 200, body
    return {"Authorization": f"Bearer {body['access_token']}"}


class PrivateCluster:
    """A PostgreSQL cluster of our own (initdb in a temporary folder, as the postgres user, on a
    free port), to stop and start under load without touching the shared server."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="pg-faults-"))
        self.data = self.dir / "data"
        self.port = free_port()
        subprocess.run(["chown", "postgres:postgres", str(self.dir)], check=True)
        self._as_postgres(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"
        )
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self.ctl_args = ["-D", str(self.data), "-o", options, "-l", str(self.dir / "pg.log")]

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._as_postgres("pg_ctl", "start", "-w", "-t", "60", *self.ctl_args)

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def destroy(self) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                "pg_ctl",
                "stop",
                "-m",
                "immediate",
                "-D",
                str(self.data),
            ],
            capture_output=True,
        )
        subprocess.run(["rm", "-rf", str(self.dir)], check=False)
