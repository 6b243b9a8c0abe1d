"""The workspace's and the portal's imports point one way: no function-local import of a
tessera module (the way a cycle hides) unless a comment on it says why it must stay."""

from __future__ import annotations

import ast
from pathlib import Path

import tessera

ROOT = Path(tessera.__file__).parent
CHECKED = ("staff", "portal")
REASON = "# local import:"


def _local_imports(path: Path) -> list[str]:
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.ImportFrom):
                ours = node.level > 0 or (node.module or "").split(".")[0] == "tessera"
            elif isinstance(node, ast.Import):
                ours = any(alias.name.split(".")[0] == "tessera" for alias in node.names)
            else:
                continue
            explained = REASON in lines[node.lineno - 1] or REASON in lines[node.lineno - 2]
            if ours and not explained:
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return sorted(set(found))


def test_no_function_local_import_of_a_tessera_module_without_a_reason():
    offenders = [hit for app in CHECKED for path in sorted((ROOT / app).rglob("*.py")) for hit in _local_imports(path)]

    assert offenders == []


def test_the_check_catches_a_hidden_import_and_accepts_an_explained_one(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text(
        "def hidden():\n    from tessera.staff import views\n\n"
        "def explained():\n    # local import: the app registry is not ready at import time\n"
        "    from tessera.tickets import services\n\n"
        "def relative():\n    from . import views\n\n"
        "def library():\n    import json\n"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path.parent
    try:
        hits = _local_imports(module)
    finally:
        ROOT = saved

    assert [hit.split(": ", 1)[1] for hit in hits] == ["from tessera.staff import views", "from . import views"]
