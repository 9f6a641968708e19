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


def _package_of(path) -> str:
    mod = _module_name(path)
    return mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]


def test_no_private_names_across_modules():
    """A package's modules share their private helpers; nothing reaches into another package's private names."""
    found = []
    for path in FILES:
        pkg = _package_of(path)
        for target, names, line in _imports(path):
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            same_package = pkg != "sqmlib" and (target == pkg or target.startswith(pkg + "."))
            if private and target != _module_name(path) and not same_package:
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


# ---- the layers --------------------------------------------------------------------------------------------
# lowest first: a module imports only from its own layer or the layers before it
LAYERS = [
    ("base", ["errors", "hosts", "paths", "periods", "private", "results"]),
    ("instruments", ["instruments"]),
    ("loading", ["io", "sample"]),
    ("moments", ["moments"]),
    ("psychometrics", ["psychometrics"]),
    ("rendering", ["render"]),
    ("KANO", ["kano"]), ("audit", ["audit"]), ("voice of the customer", ["voc"]), ("PDCA", ["pdca"]), ("KPIs", ["kpi"]), ("mystery shopping", ["mystery"]),
    ("reliability", ["reliability"]), ("gaps", ["gaps"]),
    ("drivers", ["drivers"]), ("customer value", ["value"]), ("churn", ["churn"]), ("service-profit chain", ["sem"]), ("summary", ["summary"]),
    ("runner", ["runner"]),
    ("explorers", ["explore"]),
    ("training", ["training"]),
    ("command line", ["cli"]),
]
RANK = {name: k for k, (_, names) in enumerate(LAYERS) for name in names}


def _rank(module: str) -> int | None:
    parts = module.split(".")
    return RANK.get(parts[1]) if len(parts) > 1 else None


def test_every_module_has_a_layer():
    assert sorted({m.split(".")[1] for m in MODULES if m != "sqmlib"} - set(RANK)) == []


def _layer_problem(src: str, target: str) -> str | None:
    """Why ``src`` may not import ``target``: an old path of a moved module (those are for users:
    sqmlib.MOVED), or a layer above its own; None when the import is fine."""
    import sqmlib

    name = target.split(".")[1] if "." in target else ""
    if name in sqmlib.MOVED:
        return f"imports {target}, the old path of sqmlib.{sqmlib.MOVED[name]}"
    a, b = _rank(src), _rank(target)
    if src == "sqmlib":  # the package itself imports the base layer only
        return None if b == 0 else f"imports {target}: sqmlib/__init__.py imports only the base layer"
    if a is not None and b is not None and b > a:
        return f"{LAYERS[a][0]} imports {target} ({LAYERS[b][0]})"
    return None


def test_imports_flow_downwards_only():
    problems = [f"{path.relative_to(ROOT)}:{line}: {why}" for path in FILES for target, _, line in _imports(path)
                if (why := _layer_problem(_module_name(path), target))]
    assert problems == []


def test_the_layer_rule_sees_what_it_must():
    assert _layer_problem("sqmlib.io.folder", "sqmlib.runner.build")  # loading importing the runner
    assert _layer_problem("sqmlib.psychometrics.pls", "sqmlib.drivers")  # statistics importing an analysis
    assert _layer_problem("sqmlib.gaps.pipeline", "sqmlib.plots")  # an old path inside the package
    assert _layer_problem("sqmlib", "sqmlib.io")
    assert _layer_problem("sqmlib.runner.build", "sqmlib.io") is None
    assert _layer_problem("sqmlib.gaps.pipeline", "sqmlib.gaps.tables") is None


def test_no_module_over_700_lines():
    long = {str(p.relative_to(ROOT)): n for p in FILES
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700}
    assert long == {}


def test_loading_changes_nothing_global(small_dir):
    """Loading a folder registers nothing: pages keep the catalogue's words until a notebook asks for the
    instrument's wording (show.use_instrument)."""
    from sqmlib import io, labels, show

    english = "has up-to-date equipment"  # item 01 of the SERVQUAL instrument, which has Chinese wording
    labels.forget_instrument()
    folder = io.load_folder(small_dir)
    assert labels.item_wording(english, "zh") == english
    show.use_instrument(folder.instrument)
    assert labels.item_wording(english, "zh") == "设备新颖、现代"
    labels.forget_instrument()


# ---- documented import paths ---------------------------------------------------------------------------------
DOCUMENTED = {
    "sqmlib.audit": ["run_audit", "careless", "flag_straightliners", "completeness"],
    "sqmlib.churn": ["run_churn", "empc", "profit_curve", "fit_churn_model", "build_features", "risk_list"],
    "sqmlib.cli": ["main"], "sqmlib.draft": ["write_draft"], "sqmlib.engines": ["check_engine", "open_table"],
    "sqmlib.drivers": ["run_drivers", "driver_table", "relative_importance", "dominance_analysis", "driver_model"],
    "sqmlib.errors": ["SQMError", "Problem"], "sqmlib.exports": ["write_shape", "SHAPES"],
    "sqmlib.explore": ["SurveyExplorer", "DriverExplorer", "ChainExplorer", "ChurnExplorer", "explorers", "app"],
    "sqmlib.factors": ["cfa", "polychoric", "kmo", "bartlett_sphericity", "htmt", "CFAResult", "ml_fit"],
    "sqmlib.fonts": ["add_cjk_fallback", "cjk_font"], "sqmlib.formats": ["p_value", "share", "apply"],
    "sqmlib.gaps": ["run_gaps", "servqual_gaps", "servperf_table", "zone_of_tolerance", "ipa", "segment_differences",
                    "gap_trend", "gap1", "dimension_scores", "standard_attainment", "MOMENTS_NOTE"],
    "sqmlib.invariance": ["invariance", "survey_invariance"],
    "sqmlib.io": ["load_folder", "load_survey", "read_table", "DataFolder", "latest_quarter", "share_folders"],
    "sqmlib.kpi": ["run_kpis", "survey_kpis", "nps_alerts", "maturity", "quarter_comparison", "ticket_kpis"],
    "sqmlib.labels": ["use", "current", "language", "label", "frame", "text", "phrase", "register_instrument"],
    "sqmlib.labels_zh": ["SENTENCES", "PHRASES", "LESSON_PHRASES"], "sqmlib.latent": ["rmsea_ci"],
    "sqmlib.moments": ["survey_moments", "Moments", "from_pandas", "from_duckdb"], "sqmlib.ordinal": ["thresholds"],
    "sqmlib.outputs": ["write_csv", "write_excel", "markdown_html"], "sqmlib.pages": ["finish_page", "write_pdfs"],
    "sqmlib.paths": ["SAMPLE_DIR"], "sqmlib.periods": ["quarter_of"], "sqmlib.plots": ["offscreen"],
    "sqmlib.reliability": ["run_reliability", "cronbach_alpha", "omega", "cfa", "block_items", "reliability_table",
                           "polychoric", "invariance"],
    "sqmlib.report": ["build", "save", "write_metrics", "SharedKernel", "output_folder", "SQMReportError"],
    "sqmlib.results": ["Result"], "sqmlib.runner.session": ["fresh_start"],
    "sqmlib.scale": ["fit_on_sample", "score_duckdb", "score_spark"],
    "sqmlib.sem": ["pls", "run_chain", "satisfaction_index", "index_intervals", "ipma", "PLSResult"],
    "sqmlib.serve": ["serve"], "sqmlib.show": ["section", "use_language", "use_instrument", "styled", "figure"],
    "sqmlib.summary": ["run_summary", "read_report"],
    "sqmlib.synth": ["generate", "SynthConfig", "sample_folder", "save", "SampleData"],
    "sqmlib.tickets": ["standard_attainment"], "sqmlib.training": ["render", "SharedKernel"],
}


@pytest.mark.parametrize("path", sorted(DOCUMENTED))
def test_documented_import_path(path):
    import importlib

    import sqmlib

    module = importlib.import_module(path)
    assert [n for n in DOCUMENTED[path] if not hasattr(module, n)] == []
    name = path.split(".", 1)[1]
    if name in sqmlib.MOVED:  # the old path is the very module that holds it now
        assert module is importlib.import_module(f"sqmlib.{sqmlib.MOVED[name]}")
        assert getattr(sqmlib, name) is module


def test_readme_and_notebook_imports_work():
    """Every ``from sqmlib… import …`` line of the README and every ``module.name`` a notebook calls exists."""
    import importlib
    import json
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for line in re.findall(r"^\s*(from sqmlib[\w.]* import [\w, ]+)", text, flags=re.M):
        try:
            exec(line, {})
        except ImportError as exc:
            missing.append(f"README: {line}: {exc}")
    for nb in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "code")
        for names in re.findall(r"^from sqmlib import ([\w, ]+)", code, flags=re.M):
            for mod in (n.strip() for n in names.split(",")):
                module = importlib.import_module(f"sqmlib.{mod}")
                for attr in set(re.findall(rf"\b{mod}\.(\w+)", code)):
                    if not hasattr(module, attr):
                        missing.append(f"{nb.name}: {mod}.{attr}")
    assert missing == []


def test_no_blanket_warning_filters():
    """Warnings are silenced only by name (a category or a message), locally: never all of them, so that the
    project's own SQMWarnings reach the notebooks."""
    import re

    blanket = re.compile(r"""(simplefilter|filterwarnings)\(\s*["']ignore["']\s*\)""")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in FILES
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if blanket.search(line)]
    assert found == []
