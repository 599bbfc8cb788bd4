"""The scripts in benchmarks/ and studies/ import heartzoo inside their functions, where a name the
package moved fails only when the script runs; every such import is resolved here without running one."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*REPO.glob("benchmarks/*.py"), *REPO.glob("studies/*.py")])


def heartzoo_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name) of each `from heartzoo... import name` and `import heartzoo...` in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "heartzoo":
            out += [(node.lineno, node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None) for a in node.names if a.name.split(".")[0] == "heartzoo"]
    return out


def unresolved(path: Path) -> list[str]:
    bad = []
    for line, module, name in heartzoo_imports(path):
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            bad.append(f"{path.name}:{line}: {module}: {exc}")
            continue
        if name is not None and not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                bad.append(f"{path.name}:{line}: no {name} in {module}")
    return bad


def test_the_walker_sees_a_name_that_is_not_there(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("def main():\n    from heartzoo.recording.read import external\n")
    assert unresolved(script) == ["s.py:2: no external in heartzoo.recording.read"]
    script.write_text("def main():\n    from heartzoo.recording import external\n")
    assert unresolved(script) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_heartzoo_import_of_a_script_resolves(path):
    assert unresolved(path) == []
