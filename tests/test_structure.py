"""How the code is put together: no module reaches into another's private names, and migrations never
import live code (an old migration must build the same schema however portal/ changes later)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom):
            yield node.module or "", [alias.name for alias in node.names], node.level
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], 0


def test_no_module_imports_another_s_private_names():
    found = [f"{path.relative_to(ROOT)}: from {'.' * level}{module} import {name}"
             for folder in ("portal", "tests") for path in sorted((ROOT / folder).rglob("*.py"))
             for module, names, level in _imports(path)
             for name in names if name.startswith("_") and module != "flask_babel"]
    assert found == []


@pytest.mark.parametrize("path", sorted((ROOT / "migrations").rglob("*.py")), ids=lambda path: path.name)
def test_migrations_import_nothing_from_portal(path):
    imported = [module for module, _names, _level in _imports(path)]
    assert [module for module in imported if module == "portal" or module.startswith("portal.")] == []
