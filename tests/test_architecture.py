"""The arrows between layers point one way, and the tests say so before a review has to.

Adapters (staff, portal, mail) call the ticket core; the core never imports an adapter, not
even inside a function, where a cycle hides until something imports in the wrong order. A
function-local import of a tessera module is allowed only with a `# local import: <why>`
comment just above it (an AppConfig.ready() importing models, say). Checked for every package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("tessera",)
CORE = ("tessera/tickets", "tessera/accounts")
# Feature apps (tasks) hang off the core the same way: the core never imports them either.
ADAPTERS = ("tessera.mail", "tessera.staff", "tessera.portal", "tessera.api", "tessera.webhooks", "tessera.tasks")
ALLOW = "# local import:"


def sources(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imported(path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The absolute module names an import statement names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module or ""]
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = ".".join(package[: len(package) - (node.level - 1)])
    return [f"{base}.{node.module}" if node.module else base]


def local_imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """Imports of tessera modules inside a function, without a comment saying why."""
    source = path.read_text() if source is None else source
    lines = source.splitlines()
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = [name for name in imported(path, node) if name.split(".")[0] == "tessera"]
            if names and not explained(lines, node.lineno):
                found.append((node.lineno, names[0]))
    return found


def explained(lines: list[str], lineno: int) -> bool:
    """A `# local import:` comment on the line, or above it across comments, imports and blank lines."""
    index = lineno - 1
    if ALLOW in lines[index]:
        return True
    for line in reversed(lines[:index]):
        text = line.strip()
        if ALLOW in text:
            return True
        if text and not text.startswith(("#", "from ", "import ")):
            return False
    return False


def test_no_hidden_imports_of_tessera_modules_inside_functions():
    hidden = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sources(*CHECKED)
        for line, name in local_imports(path)
    ]
    assert hidden == [], "move these imports to the top of the module, or say why they must stay:\n" + "\n".join(hidden)


def test_the_ticket_core_imports_no_adapter():
    wrong = []
    for path in sources(*CORE):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                wrong += [
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                    for name in imported(path, node)
                    if name.startswith(ADAPTERS)
                ]
    assert wrong == [], "the core must not depend on an adapter:\n" + "\n".join(wrong)


def test_only_services_write_timeline_events():
    services = ROOT / "tessera/tickets/services"
    writers = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sources("tessera")
        if services not in path.parents and "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text()))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"create", "bulk_create", "get_or_create", "update_or_create"}
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "objects"
            and isinstance(node.func.value.value, ast.Name)
            and node.func.value.value.id == "Event"
        )
    ]
    assert writers == [], "timeline Events are written by tessera.tickets.services only:\n" + "\n".join(writers)


@pytest.mark.parametrize(
    ("source", "hidden"),
    [
        ("def f():\n    from tessera.mail import outbound\n", True),
        ("def f():\n    from . import ingest\n", True),
        ("def f():\n    import tessera.mail.ingest\n", True),
        ("def f():\n    from django_tasks_db.backend import DatabaseBackend\n", False),
        (
            "def f():\n    # local import: the app registry is not ready when this module loads\n"
            "    from tessera.tickets import notifications\n\n    from .notices import MailCarrier\n",
            False,
        ),
        ("def f():\n    # the comment must say why\n    from tessera.tickets import notifications\n", True),
        ("from tessera.tickets import notifications\n\ndef f():\n    return notifications\n", False),
    ],
)
def test_the_hidden_import_check_tells_them_apart(source, hidden):
    path = ROOT / "tessera/mail/example.py"  # only names relative imports; never read
    assert bool(local_imports(path, source)) == hidden
