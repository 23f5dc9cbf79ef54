"""An embedded PostgreSQL (the `pgserver` package) for laptops with no database installed."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

# pgserver runs the server as this system user when tickcast runs as root.
_ROOT_SYSTEM_USER = "pgserver"


@dataclass(frozen=True)
class EmbeddedServer:
    directory: Path
    url: str
    pid: int


def start(directory: Path) -> EmbeddedServer:
    """Start the server in `directory` (initialising it on first use) or reuse the running one."""
    directory = directory.expanduser().resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    pgserver = _import_pgserver()
    server = pgserver.get_server(directory, cleanup_mode=None)
    return EmbeddedServer(directory, server.get_uri(), int(server.get_pid()))


def status(directory: Path) -> EmbeddedServer | None:
    """The running server in `directory`, or None when it is not running."""
    directory = directory.expanduser().resolve()
    if not (directory / "PG_VERSION").exists():
        return None
    _import_pgserver()
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(directory)
    if info is None or not info.is_running():
        return None
    return EmbeddedServer(directory, info.get_uri(), int(info.pid))


def stop(directory: Path) -> bool:
    """Stop the server in `directory`; False when none was running."""
    running = status(directory)
    if running is None:
        return False
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # generated at import

    user = _ROOT_SYSTEM_USER if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=running.directory, user=user)
    return True


def _import_pgserver() -> ModuleType:
    with warnings.catch_warnings():
        # pgserver warns when XDG_RUNTIME_DIR is unset (CI, root shells) and falls back to /tmp.
        warnings.simplefilter("ignore")
        import pgserver

        return pgserver
