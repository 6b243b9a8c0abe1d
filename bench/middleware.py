"""Per-request measurements for the benchmarks, taken inside the server process."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

from django.db import connection
from django.http import HttpRequest, HttpResponse


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += perf_counter() - started


class ServerTimingMiddleware:
    """X-Query-Count: SQL statements the request ran (counted with an execute wrapper, so it
    works with DEBUG off); X-Server-Time-ms: time from entering the middleware stack to the
    rendered response; X-SQL-Time-ms: the part of it spent waiting for the database (the rest is
    Python: views, forms, templates). Put it first in MIDDLEWARE so that it sees everything."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counter = _QueryCounter()
        started = perf_counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        elapsed_ms = (perf_counter() - started) * 1000
        response["X-Query-Count"] = str(counter.count)
        response["X-Server-Time-ms"] = f"{elapsed_ms:.3f}"
        response["X-SQL-Time-ms"] = f"{counter.seconds * 1000:.3f}"
        return response
