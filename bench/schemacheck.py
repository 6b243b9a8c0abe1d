"""Prove that a generated database has exactly the schema the migrations make.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench \\
        python -m bench.schemacheck --reference postgres://postgres@127.0.0.1:5432/tessera_bench_ref

Migrates the reference database (created when missing; it must be a different database),
then compares every index and constraint of every table between the two, and runs
`manage.py migrate --check` on the generated one. Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _catalogue(url: str) -> set[tuple]:
    import environ
    import psycopg

    c = environ.Env.db_url_config(url)
    with psycopg.connect(
        dbname=c["NAME"], host=c.get("HOST") or None, port=c.get("PORT") or None, user=c.get("USER") or None
    ) as conn:
        rows = conn.execute(
            """
            SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
            UNION ALL
            SELECT 'constraint', rel.relname, con.conname, pg_get_constraintdef(con.oid)
              FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
              JOIN pg_namespace ns ON ns.oid = rel.relnamespace WHERE ns.nspname = 'public'
            """
        ).fetchall()
    return set(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.schemacheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", required=True, help="URL of a database to migrate freshly and compare with")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("bench.schemacheck: DATABASE_URL must name the generated PostgreSQL database")
    if args.reference.rstrip("/") == url.rstrip("/"):
        raise SystemExit("bench.schemacheck: the reference must be another database")
    python = sys.executable
    env = {**os.environ, "DATABASE_URL": args.reference}
    subprocess.run([python, "-m", "bench.generate", "--create-only"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "migrate", "--no-input", "--skip-checks", "-v0"], cwd=ROOT, env=env, check=True
    )
    check = subprocess.run([python, "manage.py", "migrate", "--check", "--skip-checks", "-v0"], cwd=ROOT)
    generated, reference = _catalogue(url), _catalogue(args.reference)
    missing, extra = sorted(reference - generated), sorted(generated - reference)
    for row in missing:
        print("missing in generated:", *row)
    for row in extra:
        print("only in generated:   ", *row)
    indexes = sum(1 for r in generated if r[0] == "index")
    constraints = len(generated) - indexes
    ok = not missing and not extra and check.returncode == 0
    print(
        f"{'same' if not missing and not extra else 'DIFFERENT'} schema: {indexes} indexes and {constraints} "
        f"constraints compared; migrate --check: {'ok' if check.returncode == 0 else 'unapplied migrations'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
