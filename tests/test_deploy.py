"""deploy/ agrees with itself and with the Dockerfile (docker-compose.yml can't be run here;
the Debian site runs in tests/faults/test_city.py and the city bench)."""

import re
import shlex
from pathlib import Path

import yaml

from bench.nginx import SITE, site

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _dockerfile() -> tuple[dict, list[str]]:
    text = (ROOT / "Dockerfile").read_text()
    env = dict(re.findall(r"(\w+)=(\S+)", text.split("ENV", 1)[1].split("\n\n", 1)[0]))
    cmd = re.search(r'^CMD \["sh", "-c", "(.+)"\]$', text, re.M).group(1)
    return env, [shlex.split(part.removeprefix("exec ")) for part in cmd.split(" && ")]


def test_compose_runs_the_images_own_commands_one_scheduler_and_nginx_in_front():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    env, (migrate, serve) = _dockerfile()
    assert services["migrate"]["command"] == migrate  # the image's CMD, split in two
    webs = [name for name, s in services.items() if s.get("command") == serve]
    assert webs == ["web1", "web2"]
    for name in (*webs, "scheduler", "migrate"):
        service = services[name]
        assert service["build"]["context"] == ".." and service["image"] == "tidal-market"
        assert service["environment"]["PROXY_COUNT"] == "1"
        assert service["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert any(v.endswith(f":{env['MARKET_INSTANCE_PATH']}") for v in service["volumes"])
    acting = [n for n, s in services.items() if s.get("environment", {}).get("SCHEDULER") == "on"]
    assert acting == ["scheduler"]
    assert services["scheduler"]["command"][-2:] == ["market", "scheduler"]

    nginx = services["nginx"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in nginx["volumes"]}
    for outside in mounts.values():
        assert (DEPLOY / outside).exists(), outside
    upstream = (DEPLOY / mounts["/etc/nginx/conf.d/default.conf"]).read_text()
    assert re.findall(r"server (\w+):(\d+)", upstream) == [(w, env["PORT"]) for w in webs]
    assert "include /etc/nginx/snippets/tidal-market.conf;" in upstream
    assert mounts["/etc/nginx/snippets/tidal-market.conf"] == "./nginx/snippets/tidal-market.conf"
    assert mounts["/srv/tidal-market/static"] == "../static"


def test_the_debian_site_proxies_to_two_instances_with_the_apps_settings():
    text = SITE.read_text()
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", text) == ["8001", "8002"]
    unit = (DEPLOY / "systemd" / "tidal-market-web@.service").read_text()
    assert "Environment=PORT=%i SCHEDULER=off" in unit
    assert "SCHEDULER=on" in (DEPLOY / "systemd" / "tidal-market-scheduler.service").read_text()
    assert "PROXY_COUNT=1" in (DEPLOY / "tidal-market.env.example").read_text()
    rendered = site([5001, 5002], 5000)  # what the bench and the fault test run
    assert "127.0.0.1:5001" in rendered and "127.0.0.1:5002" in rendered
    assert "listen 127.0.0.1:5000;" in rendered and "[::]" not in rendered
    snippet = (DEPLOY / "nginx" / "snippets" / "tidal-market.conf").read_text()
    assert "\ngzip off;" in snippet  # the app compresses its answers
    assert "proxy_pass http://tidal_market;" in snippet
    assert 'proxy_set_header X-Forwarded-Prefix "";' in snippet
