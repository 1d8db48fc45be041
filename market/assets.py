"""Static files under names that carry a digest of their content: `url_for('static',
filename='css/app.css')` prints `/static/css/app.<12 hex digits of its SHA-256>.css`.

A digest name never changes its content, so a browser, or nginx in front of several app
instances (deploy/nginx/), may keep it for a year, and a changed file is simply a new name.
The app answers both the digest name (cached for a year) and the plain one (revalidated each
time), so it works the same without nginx, and a page from before a deploy still finds its
files. Digests are computed once per process, when a name is first printed."""

import hashlib
import re
from pathlib import Path

from flask import Flask, send_from_directory
from werkzeug.utils import safe_join

DIGEST_NAME = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")
YEAR = 365 * 24 * 3600


class StaticDigests:
    def __init__(self, folder: str, remember: bool = True):
        self.folder = folder
        self.remember = remember  # off in debug: an edited file gets its new name at once
        self.names: dict[str, str] = {}

    def name(self, filename: str) -> str:
        """css/app.css → css/app.<digest>.css; a name that is no file stays as it is."""
        if (known := self.names.get(filename)) is not None:
            return known
        found = safe_join(self.folder, filename)
        if found is None or not Path(found).is_file():
            return filename
        digest = hashlib.sha256(Path(found).read_bytes()).hexdigest()[:12]
        plain = Path(filename)
        named = str(plain.with_name(f"{plain.stem}.{digest}{plain.suffix}"))
        if self.remember:
            self.names[filename] = named
        return named

    def resolve(self, requested: str) -> tuple[str, bool]:
        """The file a requested name means, and whether it is the current digest name."""
        match = DIGEST_NAME.match(requested)
        found = safe_join(self.folder, requested)
        if match is None or (found is not None and Path(found).is_file()):
            return requested, False
        plain = match["stem"] + match["ext"]
        return plain, self.name(plain) == requested


def init_app(app: Flask) -> None:
    digests = StaticDigests(app.static_folder, remember=not app.debug)

    @app.url_defaults
    def _digest_names(endpoint, values):
        if endpoint == "static" and "filename" in values:
            values["filename"] = digests.name(values["filename"])

    def static(filename):
        plain, current = digests.resolve(filename)
        response = send_from_directory(app.static_folder, plain, max_age=YEAR if current else None)
        if current:
            response.cache_control.public = True
            response.cache_control.immutable = True
        return response

    app.view_functions["static"] = static
