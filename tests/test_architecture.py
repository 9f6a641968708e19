"""The package's shape: no import cycle between sqmlib's modules, no module reaching into another's private
names, and every pipeline of the run_* layer documented (Parameters, Returns, Examples)."""
import ast
import inspect

import pytest

from sqmlib import audit, churn, drivers, gaps, io, kpi, reliability, summary

from conftest import ROOT

PACKAGE = ROOT / "sqmlib"


def _module_name(path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path):
    """(module imported, names imported, line) for every sqmlib import of a file, at any depth."""
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("sqmlib"):
                continue
            names = [a.name for a in node.names]
            if node.module is None or target in MODULES:  # `from . import x` imports modules x
                subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
                if subs and node.module is None:
                    for s in subs:
                        yield s, [], node.lineno
                    continue
            yield target, names, node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("sqmlib"):
                    yield a.name, [], node.lineno


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {_module_name(p) for p in FILES}


def test_no_import_cycle():
    graph = {m: set() for m in MODULES}
    for path in FILES:
        src = _module_name(path)
        for target, _, _ in _imports(path):
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != src and target != "sqmlib":
                graph[src].add(target)
    # depth-first search for a cycle
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                raise AssertionError("import cycle: " + " → ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_no_private_names_across_modules():
    found = []
    for path in FILES:
        for target, names, line in _imports(path):
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            if private and target != _module_name(path):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {private} from {target}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   for a in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and f"{node.value.id}" in {m.rsplit(".", 1)[-1] for m in MODULES}):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert found == []


def test_imports_at_the_top_of_sqmlib_modules():
    """Imports of sqmlib's own modules sit at the top of each module (no hidden import inside a function)."""
    late = []
    for path in FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.level or (inner.module or "").startswith("sqmlib")):
                        late.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    # the command line imports its subcommands when they run, so that `sqm --help` starts fast
    assert [x for x in late if not x.startswith("sqmlib/cli.py")] == []


PIPELINES = [audit.run_audit, reliability.run_reliability, gaps.run_gaps, drivers.run_drivers, churn.run_churn,
             kpi.run_kpis, summary.run_summary, io.load_folder]


@pytest.mark.parametrize("fn", PIPELINES, ids=lambda f: f.__name__)
def test_pipelines_are_documented(fn):
    doc = inspect.getdoc(fn) or ""
    for section in ("Parameters", "Returns"):
        assert f"{section}\n----" in doc, f"{fn.__name__} lacks a {section} section"
    if fn is not audit.run_audit:
        assert "Examples\n----" in doc, f"{fn.__name__} lacks an Examples section"
