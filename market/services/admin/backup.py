"""Backup and restore of the whole database, and the facts that prove a restore is faithful.

SQLite: the online backup API (a consistent copy while the app keeps serving).
PostgreSQL: pg_dump --format=custom, and pg_restore into an empty database.
A restore refuses a database that already holds data: it would mix two histories."""

import os
import shutil
import sqlite3
import subprocess  # noqa: S404 (pg_dump / pg_restore, arguments never from a request)
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

from ...extensions import db
from ...models import MarketSession, Organization
from ..ledger import entries as ledger
from ..sessions import takings


class BackupError(Exception):
    """A backup or restore that can't go ahead; the message says why, for the operator."""


def default_path(instance_path: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if _dialect() == "sqlite" else "pgdump"
    return Path(instance_path) / "backups" / f"market-{stamp}.{suffix}"


def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_file() -> str:
    return db.engine.url.database


def _libpq(url) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump / pg_restore, the password through the environment."""
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (PostgreSQL client tools are needed)")
    return path


def backup(path: Path) -> Path:
    """Write a consistent copy of the database to `path` (its folder is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise BackupError(f"{path} exists already: choose another name")
    if _dialect() == "sqlite":
        source = sqlite3.connect(_sqlite_file())
        target = sqlite3.connect(path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        args, env = _libpq(db.engine.url)
        result = subprocess.run(  # noqa: S603
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(path), *args],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            path.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return path


def data_rows() -> dict[str, int]:
    """Rows per table of the app (Alembic's version row is not data)."""
    present = set(db.inspect(db.session.connection()).get_table_names())
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name in present
    }


def restore(path: Path) -> None:
    """Load a backup into this database, which must hold no data (tables may exist)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    filled = {name: n for name, n in data_rows().items() if n}
    if filled:
        some = ", ".join(f"{name} ({n})" for name, n in list(filled.items())[:3])
        raise BackupError(
            f"this database is not empty ({some}…): restore only into an empty database, "
            "e.g. a new DATABASE_URL"
        )
    db.session.remove()
    db.engine.dispose()
    if _dialect() == "sqlite":
        _restore_sqlite(path)
    else:
        _restore_postgres(path)
    db.engine.dispose()


def _restore_sqlite(path: Path) -> None:
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not a SQLite backup")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(_sqlite_file())
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_postgres(path: Path) -> None:
    with open(path, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise BackupError(f"{path} is not a pg_dump custom-format backup")
    args, env = _libpq(db.engine.url)
    # --clean: the empty tables of a migrated database make way for the backup's own.
    result = subprocess.run(  # noqa: S603
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(path),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def fingerprint() -> dict:
    """Facts that a faithful restore keeps: compare before backup and after restore."""
    facts = {
        "alembic_revision": db.session.scalar(text("SELECT version_num FROM alembic_version")),
        "rows": data_rows(),
        "session_takings": {
            s.id: takings.session_takings(s).as_dict()
            for s in db.session.scalars(select(MarketSession).order_by(MarketSession.id))
        },
    }
    # The ledger's chain head per organization, and that it still verifies.
    heads = {}
    for org_id in db.session.scalars(select(Organization.id).order_by(Organization.id)):
        head = ledger.chain_head(org_id)
        heads[org_id] = (head.seq, head.entry_hash) if head else None
    facts["ledger_heads"] = heads
    facts["ledger_verifies"] = ledger.verify().ok
    return facts
