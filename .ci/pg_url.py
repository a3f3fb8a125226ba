"""Print a PostgreSQL URL for a fresh test database when a server answers here, else nothing."""
import os
import sys

try:
    import psycopg
except ImportError:
    sys.exit(0)

HOST = os.environ.get("CI_PGHOST", "127.0.0.1")
USER = os.environ.get("CI_PGUSER", "postgres")
NAME = "reflexion_ci"

try:
    with psycopg.connect(host=HOST, user=USER, dbname="postgres", connect_timeout=3, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {NAME}")
except Exception as exc:  # no server, no rights: SQLite only
    print(f"no PostgreSQL: {type(exc).__name__}", file=sys.stderr)
    sys.exit(0)
print(f"postgresql+psycopg://{USER}@{HOST}/{NAME}")
