"""How far a run folder travels through the code: `run_dir` followed from `zoo.publish.export_run` through
every function that receives it. Each stop is a place a reader must visit to know what export reads from
a run; the walk keeps it short, and never back up a layer (a call from a subpackage into one above it)."""

from __future__ import annotations

import ast
from pathlib import Path

from test_structure import _modules, _targets, unit_graph, unit_of


class Module:
    """One module's functions, classes and the names its imports bind (at the top and in each function)."""

    def __init__(self, name: str, path: Path, known: dict[str, Path]):
        self.name, self.path, self.known = name, path, known
        self.tree = ast.parse(path.read_text())
        self.defs: dict[str, ast.FunctionDef] = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.defs[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        self.defs[f"{node.name}.{item.name}"] = item
        self.imports = self.bound(self.tree.body)

    def bound(self, body) -> dict[str, tuple[str, str]]:
        """name -> (module, name there) for `from X import a` statements directly in `body` or nested in
        its control flow (not in nested functions)."""
        out: dict[str, tuple[str, str]] = {}
        stack = list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.ImportFrom):
                target = _targets(self.name, self.path, node, self.known)[0]
                for a in node.names:
                    out[a.asname or a.name] = (target, a.name)
            elif not isinstance(node, ast.FunctionDef | ast.ClassDef):
                stack.extend(ast.iter_child_nodes(node))
        return out


def _callee(mod: Module, func: ast.FunctionDef, call: ast.Call) -> tuple[str, str] | None:
    names = {**mod.imports, **mod.bound(func.body)}
    f = call.func
    if isinstance(f, ast.Name):
        if f.id in mod.defs:
            return mod.name, f.id
        return names.get(f.id)
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):  # Class.method(...)
        owner = f.value.id
        if f"{owner}.{f.attr}" in mod.defs:
            return mod.name, f"{owner}.{f.attr}"
        if owner in names:
            where, cls = names[owner]
            return where, f"{cls}.{f.attr}"
    return None


def _passes(arg: ast.expr, tainted: set[str]) -> bool:
    """The run folder itself: its name, or `Path(name)`."""
    if isinstance(arg, ast.Name):
        return arg.id in tainted
    return (
        isinstance(arg, ast.Call)
        and isinstance(arg.func, ast.Name)
        and arg.func.id == "Path"
        and len(arg.args) == 1
        and _passes(arg.args[0], tainted)
    )


def _params(func: ast.FunctionDef, method: bool) -> list[str]:
    names = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    return names[1:] if method else names


def walk(start: tuple[str, str], param: str) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Every (caller, callee) edge along which `param` of `start` travels, first visits only."""
    known = _modules()
    modules: dict[str, Module] = {}

    def module(name: str) -> Module | None:
        if name not in known:
            return None
        if name not in modules:
            modules[name] = Module(name, known[name], known)
        return modules[name]

    edges, seen, todo = [], {start}, [(start, param)]
    while todo:
        (mname, fname), p = todo.pop()
        mod = module(mname)
        func = mod.defs[fname]
        tainted = {p}
        for node in ast.walk(func):  # `run_dir = Path(run_dir)` and the like keep the name
            if isinstance(node, ast.Assign):
                pairs = []
                for t in node.targets:
                    if isinstance(t, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        pairs += zip(t.elts, node.value.elts, strict=False)
                    else:
                        pairs.append((t, node.value))
                tainted |= {t.id for t, v in pairs if isinstance(t, ast.Name) and _passes(v, tainted)}
        for call in (n for n in ast.walk(func) if isinstance(n, ast.Call)):
            callee = _callee(mod, func, call)
            if callee is None or (target := module(callee[0])) is None or callee[1] not in target.defs:
                continue
            cfunc = target.defs[callee[1]]
            first = _params(cfunc, False)[:1]
            method = "." in callee[1] and (
                first == ["self"]
                or any(isinstance(d, ast.Name) and d.id == "classmethod" for d in cfunc.decorator_list)
            )
            params = _params(cfunc, method)
            received = [params[i] for i, a in enumerate(call.args) if i < len(params) and _passes(a, tainted)]
            received += [k.arg for k in call.keywords if k.arg and _passes(k.value, tainted)]
            for q in received:
                edges.append(((mname, fname), callee))
                if callee not in seen:
                    seen.add(callee)
                    todo.append((callee, q))
    return edges


def _above(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """unit -> every unit that imports it, directly or not."""
    out: dict[str, set[str]] = {u: set() for u in graph}
    for u in graph:
        stack, seen = list(graph[u]), set()
        while stack:
            v = stack.pop()
            if v not in seen:
                seen.add(v)
                stack.extend(graph.get(v, ()))
        for v in seen:
            out.setdefault(v, set()).add(u)
    return out


def test_the_walker_follows_a_renamed_path_into_a_class_method():
    # run_pipeline renames its run_dir (`run_dir = Path(run_dir)`) and hands it to a classmethod
    edges = walk(("heartzoo.training.runs", "run_pipeline"), "run_dir")
    start = ("heartzoo.training.runs", "run_pipeline")
    assert (start, ("heartzoo.zoo.manifest", "Manifest.open")) in edges
    assert (start, ("heartzoo.training.train", "prepare_run_dir")) in edges
    # and a layer above another is seen as such
    assert "heartzoo.zoo" in _above(unit_graph())["heartzoo.data"]


def test_a_run_folder_makes_few_stops_on_its_way_through_export_and_none_back_up():
    edges = walk(("heartzoo.zoo.publish", "export_run"), "run_dir")
    stops = {callee for _, callee in edges}
    assert len(stops) <= 12, sorted(stops)
    above = _above(unit_graph())
    up = [
        (a, b)
        for a, b in edges
        if unit_of(a[0]) and unit_of(b[0]) and unit_of(b[0]) in above.get(unit_of(a[0]), set())
    ]
    assert up == []
