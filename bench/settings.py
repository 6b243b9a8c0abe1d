"""Settings for the HTTP benchmarks: Tessera's own settings plus two measuring aids.

- ServerTimingMiddleware (outermost) answers every request with X-Query-Count and
  X-Server-Time-ms, measured inside the worker, so the figures exclude the client and the
  network but include every middleware, the view and the template.
- /bench/floor/ is the framework floor: a minimal view doing one indexed query (a ticket by
  number) through the same middleware, to compare the real pages with.

Everything else (database from DATABASE_URL, DEBUG off, the manifest static storage) is
exactly what `make run` serves. Static files are collected into their own folder so the
benchmark never depends on, or overwrites, the developer's collected files.
"""

import os

from tessera.settings import *  # noqa: F403
from tessera.settings import DATA_DIR, MIDDLEWARE, STORAGES

MIDDLEWARE = ["bench.middleware.ServerTimingMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "bench.urls"
STATIC_ROOT = DATA_DIR / "bench-static"
STATIC_ROOT.mkdir(exist_ok=True)
if os.environ.get("BENCH_PLAIN_STATIC"):
    # Fallback when collectstatic fails on work in progress: {% static %} without the manifest.
    STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
