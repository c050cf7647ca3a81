"""Public names are written where they live, and they are true (STYLE habit 2).

* each domain package's ``__all__`` names exist and import;
* other domains import a domain only through those names;
* ``shuchang.errors.__all__`` and the classes match the error tree in its docstring.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import shuchang.domains
import shuchang.errors

DOMAINS_DIR = Path(shuchang.domains.__file__).parent
DOMAINS = sorted(m.name for m in pkgutil.iter_modules([str(DOMAINS_DIR)]) if m.ispkg)


def test_the_domains_under_test_are_found() -> None:
    assert {"evidence", "participants"} <= set(DOMAINS)


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_all_names_exist_and_import(domain: str) -> None:
    package = importlib.import_module(f"shuchang.domains.{domain}")
    names = getattr(package, "__all__", None)

    assert names, f"shuchang.domains.{domain} declares no __all__ (its public surface)"
    assert len(names) == len(set(names)), "duplicates in __all__"
    for name in names:
        assert getattr(package, name, None) is not None, name
    namespace: dict[str, object] = {}
    exec(f"from shuchang.domains.{domain} import *", namespace)  # noqa: S102 - the point
    assert set(namespace) - {"__builtins__"} == set(names)


def _imports_of_other_domains(domain: str) -> list[tuple[str, str, str]]:
    """``(file, imported module, name)`` for every import from another domain."""
    found = []
    for path in (DOMAINS_DIR / domain).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                for alias in node.names:
                    target = f"{module}.{alias.name}" if module == "shuchang.domains" else module
                    match = re.match(r"shuchang\.domains\.(\w+)", target)
                    if match and match.group(1) != domain:
                        found.append((path.name, target, alias.name))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    match = re.match(r"shuchang\.domains\.(\w+)", alias.name)
                    if match and match.group(1) != domain:
                        found.append((path.name, alias.name, ""))
    return found


@pytest.mark.parametrize("domain", DOMAINS)
def test_other_domains_are_used_only_through_their_public_names(domain: str) -> None:
    for file, module, name in _imports_of_other_domains(domain):
        other = module.split(".")[2]
        assert module == f"shuchang.domains.{other}", (
            f"{domain}/{file} reaches inside {module}; import from shuchang.domains.{other}"
        )
        if name and name != other:
            public = importlib.import_module(module).__all__
            assert name in public, f"{domain}/{file} uses {other}.{name}, not in its __all__"


# --- the error tree -----------------------------------------------------------------------------

_TREE_LINE = re.compile(
    r"^(?P<indent>[ │├└─]*?)(?P<name>[A-Z]\w+)\s+(?P<status>\d{3})\s+(?P<code>[a-z_]+)"
)


def documented_tree() -> list[tuple[str, int, str, str | None]]:
    """``(class, status, code, parent)`` for each line of the tree in the docstring."""
    doc = shuchang.errors.__doc__ or ""
    block = doc.split("::", 1)[1]
    rows: list[tuple[str, int, str, str | None]] = []
    stack: list[str] = []
    for line in block.splitlines():
        match = _TREE_LINE.match(line.strip("\n")[4:] if line.startswith("    ") else line)
        if not match:
            continue
        depth = len(match["indent"]) // 4
        del stack[depth:]
        rows.append(
            (match["name"], int(match["status"]), match["code"], stack[-1] if stack else None)
        )
        stack.append(match["name"])
    return rows


def test_the_docstring_tree_is_parsed() -> None:
    rows = documented_tree()
    assert rows[0] == ("ShuchangError", 500, "internal", None)
    assert len(rows) >= 9


def test_errors_all_is_exactly_the_documented_tree() -> None:
    assert sorted(name for name, *_ in documented_tree()) == sorted(shuchang.errors.__all__)


@pytest.mark.parametrize(("name", "status", "code", "parent"), documented_tree())
def test_each_error_class_matches_its_line(
    name: str, status: int, code: str, parent: str | None
) -> None:
    cls = getattr(shuchang.errors, name)
    assert cls.status == status
    assert cls.default_code == code
    assert cls.default_zh and cls.default_en
    if parent is None:
        assert cls.__bases__ == (Exception,)
    else:
        assert cls.__bases__ == (getattr(shuchang.errors, parent),)
