"""PostgreSQL dumps in pg_dump's custom format, made and restored with client tools of the
server's own major version (the embedded server's, a system install's), and the checks a
restore needs: is the target empty, where do stored artifact URIs point."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from psycopg import Connection, sql

from tickcast.db.connection import redact


class DumpError(RuntimeError):
    """A dump or restore that could not be made, with what to do about it."""


@dataclass(frozen=True)
class ClientTools:
    """pg_dump and pg_restore of one PostgreSQL major version."""

    directory: Path
    major: int

    def run(self, tool: str, *arguments: str) -> None:
        """Run `tool` from this directory; a failure raises DumpError with its message."""
        done = subprocess.run(
            [str(self.directory / tool), *arguments], capture_output=True, text=True
        )
        if done.returncode != 0:
            problem = (done.stderr or done.stdout).strip().splitlines()
            raise DumpError(f"{tool} {self.major} failed: {' / '.join(problem[-3:])}")


def server_major(conn: Connection) -> int:
    """The major version of the server `conn` talks to (16 for 16.4)."""
    row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return int(row[0]) // 10000


def client_tools(major: int) -> ClientTools:
    """pg_dump/pg_restore of `major`: the embedded server's, a system install's or on PATH."""
    found: dict[Path, int | None] = {}
    for directory in _candidate_directories():
        if directory in found or not (directory / "pg_dump").is_file():
            continue
        found[directory] = _tool_major(directory / "pg_dump")
        if found[directory] == major and (directory / "pg_restore").is_file():
            return ClientTools(directory, major)
    seen = ", ".join(f"{v} in {d}" for d, v in found.items()) or "none"
    raise DumpError(
        f"the server is PostgreSQL {major}: a dump needs pg_dump {major} (found: {seen}); "
        f"install its client tools (Debian: postgresql-client-{major})"
    )


def _candidate_directories() -> list[Path]:
    candidates = []
    spec = find_spec("pgserver")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin")
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    return candidates


def _tool_major(tool: Path) -> int | None:
    try:
        said = subprocess.run([str(tool), "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    match = re.search(r"\b(\d+)(?:\.\d+)?", said)
    return int(match.group(1)) if match else None


def dump_database(conn: Connection, url: str, target: Path) -> int:
    """Dump the database at `url` (which `conn` talks to) into `target`; its size in bytes."""
    tools = client_tools(server_major(conn))
    tools.run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-f", str(target), url)
    return target.stat().st_size


def restore_database(
    conn: Connection, url: str, source: Path, judged_by: tuple[str, ...] | None = None
) -> None:
    """Restore a custom-format dump into the database at `url`, which must hold no rows (in
    `judged_by` tables, default all; its empty tables, a fresh `tickcast db up`'s, are dropped
    first); all or nothing."""
    filled = tables_with_rows(conn, judged_by)
    if filled:
        raise DumpError(
            f"{redact(url)} already holds data (tables {', '.join(filled[:5])}): a restore goes "
            "into an empty database (a new one, or a new database.embedded_dir)"
        )
    tools = client_tools(server_major(conn))
    with conn.transaction():
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    tools.run(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "-d",
        url,
        str(source),
    )


def tables_with_rows(conn: Connection, judged_by: tuple[str, ...] | None = None) -> list[str]:
    """The tables of schema public (only those in `judged_by`, if given) that hold at least
    one row, except the migrations' own."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    ]
    filled = []
    for name in names:
        if name == "schema_migrations" or (judged_by is not None and name not in judged_by):
            continue
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(name))
        row = conn.execute(query).fetchone()
        if row is not None and row[0]:
            filled.append(name)
    return filled


def relocate_dataset_files(conn: Connection, old_root: str, new_root: str) -> int:
    """Point the dataset catalog's artifact URIs under `old_root` at `new_root` (a restore into
    another artifact root); the number of rows moved."""
    with conn.transaction():
        moved = conn.execute(
            "UPDATE datasets SET artifact_uri = %s || substr(artifact_uri, length(%s) + 1) "
            "WHERE starts_with(artifact_uri, %s)",
            (new_root, old_root, old_root),
        )
    return moved.rowcount
