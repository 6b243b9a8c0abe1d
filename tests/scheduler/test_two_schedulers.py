"""Two schedulers against one database, as on two machines: each interval of a job runs once."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from datetime import timedelta

INTERVAL = 1.0
RUNS = 5  # wait for this many runs (process start-up takes seconds on a busy machine)


def test_two_scheduler_processes_run_each_interval_of_a_job_exactly_once(process_desk, tmp_path):
    trace = tmp_path / "runs.log"
    env = {"TEST_JOB_LOG": str(trace), "TEST_JOB_SECONDS": str(INTERVAL)}
    schedulers = [
        process_desk.start("run_scheduler", "--job", "test.append", "--tick", "0.05", log=tmp_path / f"s{i}.log", **env)
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 120

        def both_running() -> bool:
            # A SIGTERM that lands while a process is still starting Django (a slow, loaded
            # machine) kills it before its handler exists: stop only schedulers that are running.
            logs = [tmp_path / f"s{i}.log" for i in range(2)]
            return all(log.exists() and "Scheduler running" in log.read_text() for log in logs)

        while time.monotonic() < deadline and not (
            trace.exists() and trace.read_text().count("\n") >= RUNS and both_running()
        ):
            assert all(p.poll() is None for p in schedulers), "a scheduler stopped by itself"
            time.sleep(0.2)
    finally:
        for process in schedulers:
            process.send_signal(signal.SIGTERM)
        for process in schedulers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    logs = "\n".join((tmp_path / f"s{i}.log").read_text() for i in range(2))
    assert all(p.returncode == 0 for p in schedulers), logs

    lines = trace.read_text().split("\n")[:-1]
    slots = process_desk.python(
        "from tessera.scheduler.models import JobRun\n"
        "for r in JobRun.objects.filter(job__name='test.append').order_by('scheduled_for'):\n"
        "    print(r.scheduled_for.timestamp(), r.outcome, r.worker)"
    ).splitlines()
    due_times = [float(line.split()[0]) for line in slots]
    assert len(due_times) >= RUNS, (slots, logs)
    # One run per due time, and one run recorded per time the job really ran.
    assert len(set(due_times)) == len(due_times) == len(lines), (slots, lines)
    assert all(line.split()[1] == "succeeded" for line in slots)
    # Back to back, one interval apart (a slot may be skipped on a very busy machine, never doubled).
    gaps = [timedelta(seconds=b - a) for a, b in itertools.pairwise(due_times)]
    assert all(gap >= timedelta(seconds=INTERVAL) for gap in gaps), gaps
    assert all(abs(gap.total_seconds() / INTERVAL - round(gap.total_seconds() / INTERVAL)) < 0.01 for gap in gaps), gaps
