"""Debian's nginx with the repository's own site (deploy/nginx/), run as a child process.

The site file is the one an operator installs; only what differs on this machine is replaced
(the instances' ports, the listening address, the checkout, the snippet's path), each exactly
once, so a change to the real configuration is what the bench and the fault test run. nginx
runs in the foreground (`daemon off`) with its pid, logs and temporary files in a folder of
its own: the system service, if any, is left alone."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .server import ROOT, free_port

DEPLOY = ROOT / "deploy" / "nginx"
SITE = DEPLOY / "sites-available" / "tidal-market"
SNIPPET = DEPLOY / "snippets" / "tidal-market.conf"
NGINX = "/usr/sbin/nginx"

MAIN = """\
daemon off;
worker_processes {workers};
{user}pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
"""


def ensure_installed() -> str:
    """The nginx binary, installed from Debian's packages if missing (as CI installs
    Chromium). apt-get does not start the service in containers (policy-rc.d)."""
    if not Path(NGINX).exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, env=env)
    return NGINX


def _once(text: str, pattern: str, replacement: str) -> str:
    result, count = re.subn(pattern, replacement, text, flags=re.M)
    if count != 1:
        raise RuntimeError(f"{SITE}: expected one match of {pattern!r}, found {count}")
    return result


def site(instance_ports: list[int], listen_port: int) -> str:
    """deploy/nginx/sites-available/tidal-market for this machine."""
    text = SITE.read_text()
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+.*;$", text, flags=re.M)
    if len(servers) != len(instance_ports):
        raise RuntimeError(f"{SITE} lists {len(servers)} instances, not {len(instance_ports)}")
    for line, port in zip(servers, instance_ports, strict=True):
        text = text.replace(line, re.sub(r":\d+", f":{port}", line, count=1), 1)
    text = _once(text, r"^\s*listen 80;$", f"    listen 127.0.0.1:{listen_port};")
    text = _once(text, r"^\s*listen \[::\]:80;\n", "")
    text = _once(text, r"^\s*root /srv/tidal-market;$", f"    root {ROOT};")
    return _once(text, r"include snippets/tidal-market\.conf;", f"include {SNIPPET};")


class Nginx:
    """nginx in front of the given instance ports; `url` once started."""

    def __init__(self, instance_ports: list[int], workers: int = 1):
        if not Path(NGINX).exists():  # the bench installs it (ensure_installed), tests don't
            raise RuntimeError(f"{NGINX} is missing: apt-get install -y nginx")
        self.binary = NGINX
        self.folder = Path(tempfile.mkdtemp(prefix="nginx-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (self.folder / "site.conf").write_text(site(instance_ports, self.port))
        # As root the workers would drop to `nobody`, who may not read the checkout.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        config = MAIN.format(folder=self.folder, workers=workers, user=user)
        (self.folder / "nginx.conf").write_text(config)
        self.proc = None

    def _command(self, *extra: str) -> list[str]:
        conf = str(self.folder / "nginx.conf")
        return [self.binary, "-p", str(self.folder), "-e", str(self.folder / "error.log"),
                "-c", conf, *extra]  # fmt: skip

    def test(self) -> None:
        """`nginx -t` on the generated configuration: raises with nginx's own words."""
        done = subprocess.run(self._command("-t"), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{done.stderr}")

    def start(self) -> str:
        self.test()
        with open(self.folder / "stderr.log", "w") as stderr:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                self._command(),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        return self.url

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""
