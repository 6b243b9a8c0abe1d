"""`make audit` fails on a known vulnerability, and never reads as clean when nothing was checked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit_dependencies.py"
_spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
assert _spec and _spec.loader
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

CLEAN = {"name": "django", "version": "6.1.3", "vulns": []}
VULNERABLE = {
    "name": "nh3",
    "version": "0.1.0",
    "vulns": [{"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["0.2.1"], "description": "…"}],
}
UNCHECKED = {"name": "aiosmtpd", "version": "1.4.6", "skip_reason": "Dependency not found on PyPI"}


def test_a_known_vulnerability_fails_the_audit_and_names_the_fix():
    code, lines, _warnings = audit.judge({"dependencies": [CLEAN, VULNERABLE]}, service="pypi", strict=False)
    assert code == 1
    assert "VULNERABLE: nh3 0.1.0: GHSA-xxxx-yyyy-zzzz (fixed in 0.2.1)" in lines


def test_packages_that_could_not_be_checked_are_named_and_fail_only_when_strict():
    report = {"dependencies": [CLEAN, UNCHECKED]}
    code, lines, warnings = audit.judge(report, service="pypi", strict=False)
    assert code == 0
    assert lines[-1] == "Dependency audit: 1 checked, 0 vulnerable, 1 not checked."
    assert any("could NOT be checked" in w for w in warnings)
    assert any("aiosmtpd 1.4.6" in w for w in warnings)
    assert audit.judge(report, service="pypi", strict=True)[0] == 1


def test_a_clean_report_passes():
    assert audit.judge({"dependencies": [CLEAN]}, service="osv", strict=True)[0] == 0
