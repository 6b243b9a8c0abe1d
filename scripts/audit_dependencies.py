"""Known vulnerabilities in the pinned requirements: fail on any, and say loudly what could not be checked.

pip-audit asks a vulnerability service about every pinned package. Where the service cannot be
reached (a machine that reaches only a package mirror), every package comes back "not found":
pip-audit's --strict would then fail every build for a reason that is not a vulnerability, and
without --strict the run would read as clean. This wrapper fails on every vulnerability found,
prints a warning naming each package it could not check, and fails on those too when
TESSERA_AUDIT_STRICT=1 (set it where the service is reachable, so an outage cannot pass silently).

    .venv/bin/python scripts/audit_dependencies.py -r requirements.txt -r requirements-dev.txt
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    strict = os.environ.get("TESSERA_AUDIT_STRICT") == "1"
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        run = subprocess.run(  # noqa: S603  our own venv's pip-audit, arguments from this script's caller
            [
                str(pip_audit),
                "--progress-spinner",
                "off",
                "--vulnerability-service",
                service,
                "--format",
                "json",
                "--output",
                str(report),
                *argv,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if not report.exists():
            print(run.stdout + run.stderr, file=sys.stderr)
            print("Dependency audit: pip-audit did not produce a report.", file=sys.stderr)
            return 2
        data = json.loads(report.read_text() or "{}")
    code, lines, warnings = judge(data, service=service, strict=strict)
    print("\n".join(lines))
    if warnings:
        print("\n".join(warnings), file=sys.stderr)
    return code


def judge(data: dict, *, service: str, strict: bool) -> tuple[int, list[str], list[str]]:
    """pip-audit's JSON report -> (exit code, report lines, warnings)."""
    dependencies = data.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unchecked = [d for d in dependencies if d.get("skip_reason")]
    lines, warnings = [], []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            lines.append(f"VULNERABLE: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    if unchecked:
        warnings.append(
            f"WARNING: {len(unchecked)} of {len(dependencies)} pinned packages could NOT be checked "
            f"against the {service} vulnerability service:"
        )
        warnings += [f"  {d['name']} {d.get('version', '?')}: {d['skip_reason']}" for d in unchecked]
    checked = len(dependencies) - len(unchecked)
    lines.append(f"Dependency audit: {checked} checked, {len(vulnerable)} vulnerable, {len(unchecked)} not checked.")
    if vulnerable:
        return 1, lines, warnings
    return (1 if strict and unchecked else 0), lines, warnings


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
