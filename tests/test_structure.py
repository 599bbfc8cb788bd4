"""The shape of the package: no import cycles, counting the imports inside functions too (a lazy import
is still a dependency: it decides which module can be understood, tested or moved without the other)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "heartzoo"


def _modules() -> dict[str, Path]:
    out = {}
    for p in PACKAGE.rglob("*.py"):
        parts = list(p.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def _targets(module: str, path: Path, node: ast.AST, known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
    # `from .. import paths` is an import of the submodule, not of everything the package offers
    return subs if len(subs) == len(node.names) else [target, *subs]


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for module, path in known.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[module] |= {
                    t for t in _targets(module, path, node, known) if t in known and t != module
                }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_walker_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_walker_sees_lazy_imports():
    graph = import_graph()
    assert "heartzoo.training.train" in graph["heartzoo.training.runs"]  # imported inside the stages only
    assert "heartzoo.models.registry" in graph["heartzoo.models.baselines"]


def test_heartzoo_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_no_module_is_a_house_of_many_jobs():
    """Modules with names that say what they hold: none past 500 lines, as the formatter lays them out
    (a bound on jobs, not on lines: nothing is squeezed under it with `# fmt: skip`)."""
    long = {m: n for m, p in _modules().items() if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


def private_imports(source: str, module: str = "heartzoo.m") -> list[str]:
    """`from X import _name` in `source`: a private name taken from another module (an `as _alias` of
    a public name is no such import)."""
    return [
        f"{module}:{node.lineno} imports {a.name} from {'.' * node.level}{node.module or ''}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for a in node.names
        if a.name.startswith("_") and not a.name.startswith("__")
    ]


def test_the_private_import_walker_sees_one_inside_a_function():
    assert private_imports("def f():\n    from .zoo import _VERSION\n") == [
        "heartzoo.m:2 imports _VERSION from .zoo"
    ]
    assert private_imports("from .records import read_beats as _read_beats\n") == []


def test_no_private_name_crosses_a_module():
    """A name with a leading underscore is its module's business: another module that needs it gets a
    public name."""
    found = [hit for m, p in _modules().items() for hit in private_imports(p.read_text(), m)]
    assert found == []


def test_the_library_never_finds_the_checkout_from_its_own_path():
    """docs/, configs/ and benchmark results are the caller's to name (`heartzoo.checkout`): an installed
    heartzoo has none beside it. version.py alone looks at its own folder, for the code's git commit."""
    found = [
        m
        for m, p in _modules().items()
        if m != "heartzoo.version" and re.search(r"Path\(__file__\)\.resolve\(\)\.parents", p.read_text())
    ]
    assert found == []


def _runtime_imports(tree: ast.AST):
    """The import statements of a module, less those under `if TYPE_CHECKING:` (a type, not a layer)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in skip]


def unit_of(module: str) -> str | None:
    """The layer a module belongs to: its subpackage (heartzoo.zoo, heartzoo.data, ...), or itself for a
    module at the top; None for the package root, which re-exports from every layer lazily."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    return ".".join(parts[:2])


def unit_graph() -> dict[str, set[str]]:
    known = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        unit = unit_of(module)
        if unit is None:
            continue
        graph.setdefault(unit, set())
        for node in _runtime_imports(ast.parse(path.read_text())):
            for target in _targets(module, path, node, known):
                if target in known and (other := unit_of(target)) not in (None, unit):
                    graph[unit].add(other)
    return graph


def test_the_layer_walker_sees_a_subpackage_importing_back_up():
    graph = unit_graph()
    assert "heartzoo.data" in graph["heartzoo.config"] and "heartzoo.zoo" in graph["heartzoo.training"]
    assert cycles({**graph, "heartzoo.data": graph["heartzoo.data"] | {"heartzoo.config"}})


def test_the_package_is_layered():
    """Each subpackage and each module at the top is a layer; no layer imports one that imports it, even
    inside a function, so each can be read, tested and moved with only what is below it."""
    assert cycles(unit_graph()) == []


def test_the_top_of_the_package_is_small_and_every_subpackage_says_what_it_holds():
    top = [p for p in PACKAGE.glob("*.py")]
    assert len(top) <= 20, sorted(p.name for p in top)
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc) > 80, f"{init}: say what the subpackage holds and what it imports"


def test_nothing_is_squeezed_past_the_formatter():
    squeezed = [str(p) for p in PACKAGE.rglob("*.py") if "fmt: " + "skip" in p.read_text()]
    assert squeezed == []


HEAVY = ("keras", "tensorflow", "tf_keras", "wfdb", "h5py")


def test_a_module_that_imports_tensorflow_at_its_top_is_itself_imported_lazily():
    """`import heartzoo` and the CLI's parsing stay light: a module that imports a heavy library at its
    top (training/callbacks.py: Keras classes) is imported only inside the functions that use it."""
    known = _modules()
    heavy = {
        m
        for m, p in known.items()
        for node in ast.parse(p.read_text()).body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            (a.name if isinstance(node, ast.Import) else node.module or "").split(".")[0] in HEAVY
            for a in node.names
        )
    }
    assert "heartzoo.training.callbacks" in heavy
    eager = [
        (m, t)
        for m, p in known.items()
        for node in ast.parse(p.read_text()).body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for t in _targets(m, p, node, known)
        if t in heavy
    ]
    assert eager == []
