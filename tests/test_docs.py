"""The documentation keeps up with the code: README.md, ARCHITECTURE.md and docs/*.md.

- every relative link (and its #anchor) leads to a file or heading that exists;
- every repository path in backticks exists (placeholders such as `<id>` are skipped, globs
  must match something), and every `services.…` name in backticks imports;
- every `make <target>` names a Makefile target, every `flask <group> <command>` of the
  groups market, ledger and db a real command;
- every fenced block whose info string is `sh runnable` runs and exits 0 (keep them quick
  and without side effects: `--help`, `make -n`)."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from market import create_app
from tests.conftest import base_config

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]
IDS = [str(p.relative_to(ROOT)) for p in DOCS]

RUNNABLE = "sh runnable"
PATH_PREFIXES = (
    "market/",
    "tests/",
    "bench/",
    "docs/",
    "templates/",
    "static/",
    "scripts/",
    "migrations/",
    "deploy/",
    ".ci/",
)
TOP_FILES = {
    "Makefile",
    "app.py",
    "pyproject.toml",
    "Dockerfile",
    "gunicorn.conf.py",
    "babel.cfg",
    "README.md",
    "ARCHITECTURE.md",
}
# Made by a test run, not kept in git.
GENERATED = {"tests/e2e/artifacts/"}
PLACEHOLDER_MARKS = ("<", ">", "{", "}", "…", "...")
FILE_SUFFIXES = {"py", "md", "toml", "cfg", "png", "json", "csv", "xlsx", "html", "db", "pdf"}
SERVICE_AREAS = {
    p.name for p in (ROOT / "market" / "services").iterdir() if (p / "__init__.py").exists()
}

SPAN_RE = re.compile(r"(`+)(.+?)\1")
LINK_RE = re.compile(r"!?\[[^\]]*\]\(\s*([^)\s]+)[^)]*\)")
HTML_LINK_RE = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"")
HEADING_RE = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
MAKE_RE = re.compile(r"(?:^|[\s;&|(])make\s+((?:-\w+\s+)*)([a-z][\w-]*)")
FLASK_RE = re.compile(r"\bflask(?:\s+--app\s+\S+)?\s+(market|ledger|db)\s+([a-z][\w-]*)")
DOTTED_RE = re.compile(r"[a-z_]+(?:\.[a-z_]+)+(?:\(.*\))?")


class Doc:
    """A markdown file split into its prose and its fenced blocks."""

    def __init__(self, path: Path):
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        prose, self.blocks = [], []  # blocks: (info string, body)
        fence, info, body = None, "", []
        for line in self.text.splitlines():
            stripped = line.strip()
            if fence is None and stripped.startswith(("```", "~~~")):
                fence = stripped[:3]
                info, body = stripped.lstrip(fence[0]).strip(), []
            elif fence is not None and stripped.startswith(fence) and not stripped.strip(fence[0]):
                self.blocks.append((info, "\n".join(body)))
                fence = None
            elif fence is not None:
                body.append(line.strip() if line.startswith(" ") else line)
            else:
                prose.append(line)
        assert fence is None, f"{path.name}: a fenced block is not closed"
        self.prose = "\n".join(prose)
        self.spans = [m.group(2).strip() for m in SPAN_RE.finditer(self.prose)]

    def code(self) -> list[str]:
        """Everything written as code: inline spans and fenced blocks."""
        return self.spans + [body for _, body in self.blocks]

    def links(self) -> list[str]:
        text = SPAN_RE.sub("", self.prose)
        return LINK_RE.findall(text) + HTML_LINK_RE.findall(text)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[`*_]|\[|\]\([^)]*\)", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING_RE.findall(Doc(path).prose):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


@pytest.fixture(params=DOCS, ids=IDS)
def doc(request) -> Doc:
    return Doc(request.param)


def test_relative_links_lead_somewhere(doc):
    broken = []
    for target in doc.links():
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, fragment = target.partition("#")
        path = (doc.path.parent / file_part).resolve() if file_part else doc.path
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif fragment and path.suffix == ".md" and fragment not in anchors(path):
            broken.append(f"{target}: no heading #{fragment}")
    assert not broken, f"{doc.path.name}: {broken}"


def _repo_path(span: str) -> str | None:
    if any(c.isspace() for c in span) or span in GENERATED:
        return None
    if span in TOP_FILES or span.startswith(PATH_PREFIXES):
        return None if any(mark in span for mark in PLACEHOLDER_MARKS) else span
    return None


def test_paths_in_backticks_exist(doc):
    missing = []
    for span in doc.spans:
        path = _repo_path(span)
        if path is None:
            continue
        found = list(ROOT.glob(path)) if any(c in path for c in "*?[") else [ROOT / path]
        if not any(p.exists() for p in found):
            missing.append(path)
    assert not missing, f"{doc.path.name} names files that are not there: {missing}"


def _resolve(dotted: str) -> bool:
    """`services.ledger.entries.verify` (or `ledger.entries.verify`) is a module or an
    attribute of one under market.services."""
    parts = ["market", "services", *dotted.split(".")]
    for cut in range(len(parts), 1, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_service_names_in_backticks_exist(doc):
    unknown = []
    for span in doc.spans:
        if not DOTTED_RE.fullmatch(span):
            continue
        name = span.split("(")[0]
        if name.startswith("market.services."):
            name = name.removeprefix("market.services.")
        elif name.startswith("services."):
            name = name.removeprefix("services.")
        elif name.split(".")[0] not in SERVICE_AREAS:
            continue
        if name.rsplit(".", 1)[-1] in FILE_SUFFIXES:
            continue
        if not _resolve(name):
            unknown.append(span)
    assert not unknown, f"{doc.path.name} names services that do not exist: {unknown}"


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.M))


def test_make_targets_exist(doc):
    targets = make_targets()
    named = {m.group(2) for code in doc.code() for m in MAKE_RE.finditer(code)}
    assert named <= targets, f"{doc.path.name}: no such make target {named - targets}"


def _flask_commands() -> set[tuple[str, str]]:
    found = set()
    for path in DOCS:
        for code in Doc(path).code():
            found.update(FLASK_RE.findall(code))
    return found


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docs-cli")
    app = create_app(base_config(folder, f"sqlite:///{folder / 'market.db'}"))
    return app.test_cli_runner()


@pytest.mark.parametrize("group,command", sorted(_flask_commands()), ids="-".join)
def test_flask_commands_exist(cli, group, command):
    result = cli.invoke(args=[group, command, "--help"])
    assert result.exit_code == 0, f"flask {group} {command}: {result.output}"


def _runnable_blocks() -> list:
    blocks = []
    for path in DOCS:
        for n, (info, body) in enumerate(Doc(path).blocks):
            if info == RUNNABLE:
                blocks.append(pytest.param(body, id=f"{path.relative_to(ROOT)}-{n}"))
    return blocks


@pytest.mark.parametrize("script", _runnable_blocks())
def test_runnable_blocks_run(script, tmp_path):
    # The interpreter running the tests stands in for `.venv/bin/`; the app gets a scratch
    # instance folder and database, so a block can't touch instance/.
    bin_dir = Path(sys.executable).parent
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    env = {
        **inherited,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "MARKET_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'market.db'}",
        "SECRET_KEY": "docs-test",
        "SCHEDULER": "off",
    }
    script = script.replace(".venv/bin/", f"{bin_dir}/")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"


def test_there_are_runnable_blocks_and_commands():
    assert len(_runnable_blocks()) >= 2
    assert len(_flask_commands()) >= 5


def test_the_readme_stays_short_and_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    first_screen = "\n".join(lines[:25])
    assert "make run" in first_screen and "make test" in first_screen
    readme = Doc(ROOT / "README.md").links()
    unlinked = [p.name for p in DOCS[2:] if f"docs/{p.name}" not in readme]
    assert not unlinked, f"docs not linked from the README: {unlinked}"
