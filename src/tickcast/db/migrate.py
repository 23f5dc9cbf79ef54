"""Ordered SQL migrations, applied once each under an advisory lock and recorded with a checksum."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.db.connection import Connection, open_connection

# Arbitrary constant identifying tickcast's migration lock among advisory locks.
MIGRATION_LOCK_KEY = 7_411_502_001
_FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The database's migration history disagrees with the migration files."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationResult(BaseModel):
    applied: list[str]
    current_version: int
    notices: list[str] = []  # what the applied migrations reported (e.g. rows they removed)


def available_migrations() -> list[Migration]:
    """The migration files shipped in tickcast/db/migrations, in version order."""
    migrations = []
    for entry in resources.files("tickcast.db.migrations").iterdir():
        match = _FILE_PATTERN.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), match[2], entry.read_text()))
    migrations.sort(key=lambda m: m.version)
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number: {versions}")
    return migrations


# The databases (host, port, name) this process has migrated or found up to date: a run's later
# steps in the same process (tickcast daily, the backtest) check no more.
_CURRENT: set[tuple[str, int, str]] = set()


def ensure_schema(conn: Connection) -> None:
    """Apply pending migrations, unless this process already brought this database up to date."""
    if _database(conn) not in _CURRENT:
        apply_migrations(conn)


def _database(conn: Connection) -> tuple[str, int, str]:
    return conn.info.host, conn.info.port, conn.info.dbname


def apply_migrations(conn: Connection) -> MigrationResult:
    """Apply every pending migration in one transaction; concurrent callers wait for the lock.
    A database that already has exactly the shipped migrations is read, not locked."""
    migrations = available_migrations()
    current = max((m.version for m in migrations), default=0)
    if _up_to_date(conn, migrations):
        _CURRENT.add(_database(conn))
        return MigrationResult(applied=[], current_version=current, notices=[])
    applied: list[str] = []
    notices: list[str] = []

    def noticed(diagnostic: psycopg.errors.Diagnostic) -> None:
        if diagnostic.severity_nonlocalized == "NOTICE" and diagnostic.message_primary:
            notices.append(diagnostic.message_primary)

    conn.add_notice_handler(noticed)
    try:
        _apply(conn, migrations, applied, notices)
    finally:
        conn.remove_notice_handler(noticed)
    _CURRENT.add(_database(conn))
    return MigrationResult(applied=applied, current_version=current, notices=notices)


def _up_to_date(conn: Connection, migrations: list[Migration]) -> bool:
    """The database records exactly these migrations, each with its checksum (no lock taken)."""
    with conn.transaction():
        exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not (exists and exists[0]):
            return False
        recorded = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
    return recorded == {m.version: m.checksum for m in migrations}


def _apply(
    conn: Connection, migrations: list[Migration], applied: list[str], notices: list[str]
) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer     PRIMARY KEY,
                name       text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        notices.clear()  # only what migrations report ("already exists, skipping" is not news)
        recorded = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        known = {m.version for m in migrations}
        unknown = sorted(set(recorded) - known)
        if unknown:
            raise MigrationError(
                f"database has migrations {unknown} that this tickcast does not know: "
                "it was migrated by a newer version"
            )
        for migration in migrations:
            if migration.version in recorded:
                if recorded[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name}.sql changed after it "
                        "was applied; add a new migration instead of editing an applied one"
                    )
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied.append(f"{migration.version:04d}_{migration.name}")


class SchemaState(BaseModel):
    """Where a database's schema stands against this tickcast's migrations."""

    applied: list[int]
    pending: list[str]  # shipped migrations not applied yet
    unknown: list[int]  # applied by a tickcast this one does not know (a newer one)

    def describe(self) -> str:
        version = max(self.applied, default=0)
        if self.unknown:
            return (
                f"schema at version {version}, with migrations {self.unknown} this tickcast does "
                "not know: it was migrated by a newer version"
            )
        if self.pending:
            return f"schema at version {version}; pending: {', '.join(self.pending)} (tickcast db migrate)"
        return f"schema at version {version}, up to date"


def schema_state(conn: Connection) -> SchemaState:
    """Read-only: which migrations the database has, lacks, and has that are unknown here."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    applied = (
        sorted(v for (v,) in conn.execute("SELECT version FROM schema_migrations").fetchall())
        if exists and exists[0]
        else []
    )
    shipped = available_migrations()
    return SchemaState(
        applied=applied,
        pending=[f"{m.version:04d}_{m.name}" for m in shipped if m.version not in applied],
        unknown=sorted(set(applied) - {m.version for m in shipped}),
    )


def init_database(settings: Settings) -> MigrationResult:
    """The "init database" step: apply pending migrations to the configured database."""
    with open_connection(settings) as conn:
        return apply_migrations(conn)
