"""The layout keeps its shape: imports point one way between vaezip's parts (DESIGN.md's layers,
README "Layout"), the CLI imports its heavy modules only when a command runs, and no module or
function under vaezip/ grows past the sizes a reader takes in at once (but for the exceptions
listed below, each with its reason)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vaezip"

# What each part of vaezip may import from the rest of vaezip ("__init__": the version number).
# Lower layers first; a new part (a distributed backend, say) gets its line here, below what it uses.
ALLOWED = {
    "rans": set(),  # the coder: knows only integer intervals
    "codecs": {"rans"},  # distributions -> push/pop, bits-back, the model-free coder
    "datasets": set(),  # numpy, the standard library, Pillow
    "format": {"__init__"},  # the .vz container: numpy and the standard library
    "images": {"format", "rans"},  # PNG in and out (rans: the Numba options of the row-filter kernel)
    "models": {"rans", "codecs", "datasets"},  # networks, training, zoo, estimates, the bits-back adapter
    "pipeline": {"rans", "codecs", "models", "format", "images"},  # what codes each picture, streams <-> file
    "api": {"rans", "codecs", "models", "format", "images", "pipeline"},
    "bench": {"__init__", "rans", "codecs", "models", "format", "images", "datasets", "pipeline", "api"},
    "cli": {"__init__", "rans", "codecs", "models", "format", "images", "datasets", "pipeline", "api", "bench"},
    "__main__": {"cli"},
    "__init__": set(),
}
# the libraries beyond the standard library the lower layers may import (torch only from models/ up)
LIBRARIES = {
    "rans": {"numpy", "numba"},
    "codecs": {"numpy", "numba"},
    "format": {"numpy"},
    "datasets": {"numpy", "PIL"},
    "images": {"numpy", "PIL"},
}
# what a CLI module may import when it is loaded (``vaezip --help`` loads them): the rest waits for a command
CLI_AT_LOAD = {"click", "vaezip", "vaezip.cli", "vaezip.cli._common", "vaezip.cli.progress"}  # stdlib + click only
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40  # from the ``def`` line to the last, docstring included
# "path:function" -> why it may be longer
_RUN_MODE = ("the model-free coder's hot loop over a plane, run mode written inline: with run mode in a "
             "function of its own (inlined by numba or not) run-heavy planes coded 6-20 % slower")
LONG_FUNCTIONS: dict[str, str] = {
    "vaezip/codecs/planar/push.py:intervals": _RUN_MODE,
    "vaezip/codecs/planar/pop.py:pop_plane": _RUN_MODE,
}
LONG_MODULES: dict[str, str] = {}


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def part_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py")


def vaezip_imports(tree: ast.AST):
    """Every module of vaezip that ``tree`` imports, inside functions too."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "vaezip" else [node.module]
        else:
            continue
        for name in names:
            if name == "vaezip" or name.startswith("vaezip."):
                yield name


def imported_part(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 or parts[1] == "__version__" else parts[1]


def test_every_part_has_its_layer():
    unplaced = sorted({part_of(path) for path in modules()} - set(ALLOWED))
    assert not unplaced, f"not placed among the layers: {unplaced}; give each a line in ALLOWED"


def test_imports_point_one_way():
    wrong = {}
    for path in modules():
        part = part_of(path)
        for name in vaezip_imports(ast.parse(path.read_text())):
            if imported_part(name) not in ALLOWED.get(part, set()) | {part}:
                wrong.setdefault(str(path.relative_to(PACKAGE.parent)), []).append(name)
    assert not wrong, f"imports against the layers (see ALLOWED): {wrong}"


def test_lower_layers_use_only_their_libraries():
    wrong = {}
    for path in modules():
        allowed = LIBRARIES.get(part_of(path))
        if allowed is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for top in {name.split(".")[0] for name in names}:
                if top not in allowed | {"vaezip", "__future__"} and top not in sys.stdlib_module_names:
                    wrong.setdefault(str(path.relative_to(PACKAGE.parent)), []).append(top)
    assert not wrong, f"libraries a lower layer does not use (see LIBRARIES): {wrong}"


def test_cli_modules_import_heavy_modules_only_inside_commands():
    heavy = {}
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        at_load = []
        for node in ast.parse(path.read_text()).body:  # module level: imports in a function wait for the command
            if isinstance(node, ast.Import):
                at_load += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
                at_load.append(node.module)
        names = [n for n in at_load if n not in CLI_AT_LOAD and n.split(".")[0] not in sys.stdlib_module_names]
        if names:
            heavy[path.name] = names
    assert not heavy, f"CLI modules import {heavy} when they are loaded; import them inside the command"


def test_no_module_is_too_long():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in modules()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert set(long) <= set(LONG_MODULES), f"modules over {MAX_MODULE_LINES} lines: {long}; split them by concept"


def test_no_function_is_too_long():
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE.parent)}:{node.name}"] = lines
    assert set(long) <= set(LONG_FUNCTIONS), (
        f"functions over {MAX_FUNCTION_LINES} lines: {long}; split them by what each part does"
    )
