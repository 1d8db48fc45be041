"""Start the app under gunicorn on a fresh database, for benchmarks."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(
    database_url: str | None = None, workers: int = 4, setup=(), env_out=None, app="app:app"
):
    """Yield the base URL of a gunicorn serving the demo data; stop it afterwards. `setup`
    holds extra `flask` commands run before it starts (e.g. ["market", "rush"]); `env_out`, a
    dict, receives the environment, to run more `flask` commands on the same database; `app`
    is gunicorn's app (the rush's adds the floor's pages)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as instance:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url or f"sqlite:///{instance}/market.db",
            "MARKET_INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
            "SCHEDULER": "off",
            "LOG_JSON": "0",
            "REDIS_URL": "",
        }
        if env_out is not None:
            env_out.update(env)
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        for args in (["db", "upgrade"], ["market", "demo"], *setup):
            subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True, capture_output=True)
        with open(Path(instance) / "server.log", "w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait(url)
                yield url
            finally:
                proc.terminate()
                proc.wait(timeout=20)


def _wait(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("benchmark server did not start")


@contextmanager
def scratch_database(server_url: str | None, prefix: str = "bench"):
    """A database of its own for one run: a SQLite file, or a new PostgreSQL database next to
    the one named (bench_<that name>_<random>, dropped afterwards), so earlier runs never skew
    the counts."""
    if server_url is None:
        with tempfile.TemporaryDirectory(prefix="rush-") as folder:
            yield f"sqlite:///{folder}/market.db"
        return
    # Named after the database given (each engineer's own) plus a random part: runs by others
    # on the same server, or two runs at once, never meet. PostgreSQL names stop at 63 bytes.
    own = re.sub(r"[^a-z0-9_]", "_", (make_url(server_url).database or "db").lower())[:40]
    name = f"{prefix}_{own}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
