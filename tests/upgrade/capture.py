"""Capture the schema an earlier twoway made, as the upgrade tests' fixture.

    python -m tests.upgrade.capture 5f874e2 [3bc598a ...]

For each commit: check its code out in a temporary worktree, run *its* ``twoway migrate``
against a scratch MariaDB database and a scratch SQLite file, and write what it created
(``SHOW CREATE TABLE`` / ``sqlite_master``) to ``tests/upgrade/schemas/<commit>.<dialect>.sql``.
The fixtures are committed: the tests build the old schema from them, never from old code.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pymysql

HERE = Path(__file__).parent
REPO = HERE.parent.parent
SCRATCH_DB = "twoway_capture"


def old_migrate(checkout: Path, database_url: str, cwd: Path) -> None:
    """Run the old checkout's own ``twoway migrate`` (its modules first on the path)."""
    env = {**os.environ, "TWOWAY_DATABASE_URL": database_url, "PYTHONPATH": str(checkout)}
    code = "import sys; from services.cli import main; sys.argv = ['twoway', 'migrate']; main()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"old migrate failed: {done.stderr.strip().splitlines()[-1:]}")


def capture_mysql(checkout: Path, cwd: Path) -> str:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
            cur.execute(f"CREATE DATABASE {SCRATCH_DB} CHARACTER SET utf8mb4")
        old_migrate(checkout, f"mysql://root:@127.0.0.1:3306/{SCRATCH_DB}", cwd)
        statements = []
        with conn.cursor() as cur:
            cur.execute(f"SHOW TABLES FROM {SCRATCH_DB}")
            for (table,) in sorted(cur.fetchall()):
                cur.execute(f"SHOW CREATE TABLE {SCRATCH_DB}.`{table}`")
                statements.append(cur.fetchone()[1] + ";")
            cur.execute(f"DROP DATABASE {SCRATCH_DB}")
        return "\n\n".join(statements) + "\n"
    finally:
        conn.close()


def capture_sqlite(checkout: Path, cwd: Path) -> str:
    old_migrate(checkout, "sqlite://capture.db", cwd)
    db = sqlite3.connect(cwd / "capture.db")
    try:
        rows = db.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type DESC, name"
        ).fetchall()
    finally:
        db.close()
    return "\n\n".join(f"{sql};" for (sql,) in rows) + "\n"


def capture(commit: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        checkout = Path(tmp) / "checkout"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(checkout), commit],
            check=True,
            capture_output=True,
        )
        try:
            for dialect, run in (("mysql", capture_mysql), ("sqlite", capture_sqlite)):
                out = HERE / "schemas" / f"{commit}.{dialect}.sql"
                header = f"-- The schema `twoway migrate` made at {commit} ({dialect}).\n"
                header += "-- Captured by `python -m tests.upgrade.capture`: do not edit.\n\n"
                out.write_text(header + run(checkout, Path(tmp)))
                print(f"wrote {out.relative_to(REPO)}")
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(checkout)],
                check=True,
            )


if __name__ == "__main__":
    for commit in sys.argv[1:] or ["5f874e2", "3bc598a"]:
        capture(commit)
