"""Benchmarks and the dataset generator for issue 3 (not part of the test run).

`python -m bench.generate --tickets N` fills the database named by DATABASE_URL,
`python -m bench.run` measures the workspace over HTTP against gunicorn,
`python -m bench.explain` prints the query plans of the hot pages. See bench/RESULTS.md.
"""
