"""The layering rules of docs/architecture.md, checked on the source so a new cycle fails here.

A function-local import is how a cycle hides: the modules import each other, just not at load
time. Each one that must stay says why in a `# local import: <why>` comment on its line or the
line above, so a reviewer sees the reason where the import is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "tessera"
# The core knows nothing of the doors into it: adapters depend on the core, never the reverse.
CORE = ("tickets", "accounts")
ADAPTERS = ("tessera.mail", "tessera.staff", "tessera.portal", "tessera.api")
EXCUSE = "# local import:"


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def _imported_names(node: ast.Import | ast.ImportFrom, path: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module or ""]
    # A relative import: resolve it against the module's package.
    package = list(path.relative_to(ROOT.parent).with_suffix("").parts)[:-1]
    if node.level > 1:
        package = package[: -(node.level - 1)]
    base = ".".join(package)
    return [f"{base}.{node.module}" if node.module else base]


def _function_local_imports(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[tuple[int, str]] = []
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = [n for n in _imported_names(node, path) if n.startswith("tessera")]
            if not names:
                continue
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2] if node.lineno > 1 else ""
            if EXCUSE in here or above.strip().startswith(EXCUSE):
                continue
            found.append((node.lineno, ", ".join(names)))
    return sorted(set(found))


def _all_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, name)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in _imported_names(node, path)
    ]


def test_no_function_local_import_of_tessera_without_a_reason():
    offenders = [
        f"{path.relative_to(ROOT.parent)}:{line} imports {names}"
        for path in _modules()
        for line, names in _function_local_imports(path)
    ]
    assert not offenders, (
        "Function-local imports of Tessera modules hide import cycles. Import at the top of the "
        f"module, move the shared code down a layer, or say why with '{EXCUSE} …':\n" + "\n".join(offenders)
    )


@pytest.mark.parametrize("app", CORE)
def test_the_core_never_imports_an_adapter(app):
    offenders = [
        f"{path.relative_to(ROOT.parent)}:{line} imports {name}"
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for line, name in _all_imports(path)
        if name.startswith(ADAPTERS)
    ]
    assert not offenders, f"tessera.{app} is the core; adapters subscribe to it:\n" + "\n".join(offenders)


def test_the_checker_sees_a_hidden_local_import(tmp_path):
    """The rule above must be able to fail: a planted local import is found, an excused one is not."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f():\n"
        "    from tessera.tickets import services\n"
        "    # local import: demonstrating the excuse\n"
        "    from tessera.mail import outbound\n"
        "    import json\n"
        "    return services, outbound, json\n",
        encoding="utf-8",
    )
    assert _function_local_imports(probe) == [(2, "tessera.tickets")]
