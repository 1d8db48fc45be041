"""The city's process layout on one machine (deploy/): nginx in front of two gunicorn
instances on their own ports (SCHEDULER=off), one `flask market scheduler` process,
PostgreSQL and Redis. Used by the city bench (bench/city.py) and the fault test
(tests/faults/test_city.py), which kills its processes."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .nginx import Nginx
from .server import ROOT, free_port

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def city_env(database_url: str, instance: str, **extra) -> dict:
    """What every process of one installation shares: the database, the secret key, the
    instance folder (uploads), Redis, and nginx as the one proxy in front."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MARKET_INSTANCE_PATH": instance,
        "SECRET_KEY": "city",
        "REDIS_URL": REDIS_URL,
        "PROXY_COUNT": "1",
        "SCHEDULER": "off",
        "LOG_JSON": "0",
        **extra,
    }


class Process:
    """A child in a process group of its own, so kill -9 takes a gunicorn and its workers."""

    def __init__(self, name: str, command: list[str], env: dict):
        self.name, self.command, self.env = name, command, env
        self.log = Path(env["MARKET_INSTANCE_PATH"]) / f"{name}.log"
        self.proc = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, sig=signal.SIGTERM, seconds: float = 20) -> None:
        if not self.alive:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.kill9()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def web(env: dict, name: str, workers: int) -> Process:
    port = free_port()
    process = Process(
        name,
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        {**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers)},
    )
    process.port = port
    return process


def scheduler(env: dict, name: str = "scheduler") -> Process:
    command = [sys.executable, "-m", "flask", "--app", "app", "market", "scheduler"]
    return Process(name, command, {**env, "SCHEDULER": "on"})


def wait_healthy(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer /healthz within {seconds} s")


class City:
    """Handles on the running layout: `url` (nginx), `webs`, `scheduler`, `nginx`."""

    def __init__(self, env: dict, workers: int, with_scheduler: bool):
        self.env = env
        self.webs = [web(env, f"web{n}", workers) for n in (1, 2)]
        self.scheduler = scheduler(env) if with_scheduler else None
        self.nginx = Nginx([w.port for w in self.webs])
        self.url = self.nginx.url

    def processes(self) -> list[Process]:
        return [*self.webs, *([self.scheduler] if self.scheduler else [])]


@contextmanager
def running_city(env: dict, workers: int = 2, with_scheduler: bool = True):
    """Start the layout on a prepared (migrated, filled) database; stop it afterwards."""
    city = City(env, workers, with_scheduler)
    try:
        for process in city.processes():
            process.start()
        for w in city.webs:
            wait_healthy(f"http://127.0.0.1:{w.port}")
        city.nginx.start()
        wait_healthy(city.url)
        yield city
    finally:
        city.nginx.stop()
        for process in city.processes():
            process.stop()
