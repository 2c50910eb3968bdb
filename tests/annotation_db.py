"""Databases for the annotation tests: a SQLite file, and a PostgreSQL server that the tests start.

The server is Debian's PostgreSQL 15 (``/usr/lib/postgresql/15/bin``, or ``$NER_DEMO_PG_BIN``): ``initdb``
into a scratch folder, ``pg_ctl start`` on a Unix socket in that folder (no TCP port to collide with),
once per test session; each test gets a database of its own. initdb refuses to run as root, so as root
the server runs as the ``postgres`` user (``runuser``). Without the binaries the PostgreSQL cases are
skipped, saying so; any other failure to start the server fails them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("NER_DEMO_PG_BIN", "/usr/lib/postgresql/15/bin"))
_counter = itertools.count()


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def postgres_server():
    """The socket folder of a running PostgreSQL server (stopped at the end of the session)."""
    if not (PG_BIN / "initdb").is_file() or not (PG_BIN / "pg_ctl").is_file():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (install Debian's postgresql-15, or set "
                    "NER_DEMO_PG_BIN): the PostgreSQL cases of the annotation suite did not run")
    folder = Path(tempfile.mkdtemp(prefix="ner_demo-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run(_as_server_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                    "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-c listen_addresses='' -c unix_socket_directories='{folder}' -c fsync=off -c max_connections=50"
    subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                    str(folder / "server.log"), "-w", "-t", "120", "start"]),
                   check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def postgres_database(socket_folder: Path) -> str:
    """A new, empty database on the test server; its URL."""
    import psycopg

    name = f"ann_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(f"host={socket_folder} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@/{name}?host={socket_folder}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The URL of an empty annotation database: each test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "annotations.sqlite3")
    return postgres_database(request.getfixturevalue("postgres_server"))
