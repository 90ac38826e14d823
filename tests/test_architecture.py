"""The direction of imports (README, Layers): read from the source, so a wrong import fails here, not in review.

- `shared` never imports a service; a service never imports another service.
- A service's `domain` (module or package) reaches no adapter (asyncpg, nats, aiohttp), not even through a
  shared module.
- The ledger's background child (read models, access trail) does not load the writer.

Imports under `if TYPE_CHECKING:` are annotations only and are not followed.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = frozenset({"asyncpg", "nats", "aiohttp"})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Dotted names imported at run time by a module (from-imports name both the module and module.name)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in child.names)
            visit(child)

    visit(tree)
    return names


@functools.cache
def _graph() -> dict[str, frozenset[str]]:
    """Every project module (shared, services) and the modules or third-party packages it imports."""
    raw: dict[str, set[str]] = {}
    for top in ("shared", "services"):
        for path in (ROOT / top).rglob("*.py"):
            module = _module_name(path)
            raw[module] = _imported(ast.parse(path.read_text(encoding="utf-8")), module, path.name == "__init__.py")

    def resolve(name: str) -> str:
        parts = name.split(".")
        if parts[0] not in ("shared", "services"):
            return parts[0]
        for n in range(len(parts), 0, -1):  # `from x.y import z`: z is a module or a name in x.y
            if ".".join(parts[:n]) in raw:
                return ".".join(parts[:n])
        raise AssertionError(f"{name} is imported but is no module of the project")

    return {module: frozenset(resolve(n) for n in names) for module, names in raw.items()}


def _reach(module: str) -> set[str]:
    """Everything `module` loads, directly or through other project modules."""
    graph, seen, todo = _graph(), set(), [module]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _service(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 2 else None


def test_the_graph_sees_imports_through_shared_modules() -> None:
    # the rules below mean nothing if the analysis found no imports: the writer reaches asyncpg and nats
    # itself and pydantic only through shared modules
    reach = _reach("services.ledger.writer")
    assert {"asyncpg", "nats", "shared.envelope", "pydantic"} <= reach
    assert "pydantic" not in _graph()["services.ledger.writer"]


def test_shared_imports_no_service() -> None:
    wrong = sorted((m, d) for m, deps in _graph().items() if m.startswith("shared")
                   for d in deps if d.startswith("services"))
    assert wrong == []


def test_no_service_imports_another() -> None:
    wrong = sorted((m, d) for m, deps in _graph().items() for d in deps
                   if _service(m) and _service(d) and _service(d) != _service(m))
    assert wrong == []


DOMAINS = sorted(m for m in _graph() if _service(m) and m.split(".")[2] == "domain")


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domain_reaches_no_adapter(domain: str) -> None:
    assert sorted(_reach(domain) & ADAPTERS) == []


def test_every_service_has_a_domain_checked() -> None:
    assert {_service(m) for m in DOMAINS} == {"assessment", "audit", "ledger", "rotation"}


def test_the_background_child_does_not_load_the_writer() -> None:
    reach = _reach("services.ledger.background")
    assert "services.ledger.projections" in reach
    assert "services.ledger.writer" not in reach
