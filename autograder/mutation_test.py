"""Mutation testing of the hidden checks: do they reject wrong variants of each reference solution?

    $ python -m autograder.mutation_test 01_knn                       # every graded function
    $ python -m autograder.mutation_test 01_knn --functions predict_labels --min-score 95
    $ python -m autograder.mutation_test --all --json mutation.json    # every assignment

For each graded function (a key of ``CHECKS`` in ``autograder/checks/<id>.py``), the function's
``def`` in the solution notebook is mutated with AST transforms, one change per mutant:

- ``off-by-one``: an integer constant n -> n+1 and n-1; ``range(n)`` -> ``range(n - 1)``, ``range(1, n)``;
- ``sign flip``: ``a + b`` <-> ``a - b``, ``-x`` -> ``x``, ``return x`` -> ``return -x``;
- ``operator``: ``*`` <-> ``/``, ``**`` -> ``*``, ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``;
- ``wrong axis``: ``axis=k`` -> another axis, or dropped;
- ``missing term``: ``a + b`` -> ``a`` and -> ``b``; a call like ``np.sqrt(x)`` -> ``x``; one
  statement of the body removed;
- ``transposed result``: ``return x`` -> ``return x.T`` (a 1-D result becomes a column ``(N, 1)``);
  ``a @ b`` -> ``b @ a``;
- ``constant output``: ``return x`` -> ``return np.zeros_like(x)``.

Only the lines the student writes (between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) are
mutated, and every ``return``; the signature, docstring and the input checks the notebook hands out
are the course's code.

Each mutant runs through the function's hidden check in-process (``course.grading.run_check``,
with a time limit); it is *killed* when the check fails (or the mutant raises, or times out) and
*survives* when the check passes. The report gives, per function, the share of mutants killed and
lists the survivors. A mutant that is equivalent to the solution under the contract (it computes
the same result, e.g. ``>=`` vs ``>`` against a continuous random draw) is declared, with the
reason, in ``autograder/equivalent_mutants.py``: it is not counted, the check must accept it, and a
declaration that no longer matches a mutant is an error. Alternative correct
implementations in ``autograder/alternatives/<id>.py`` (``ALTERNATIVES = {function: [source, ...]}``)
must pass. Exit status 1 when a function scores below ``--min-score`` (default 95) or an
alternative fails.
"""

import argparse
import ast
import copy
import importlib.util
import json
import linecache
import signal
import sys
import time
from pathlib import Path

from autograder.solutions import solution_namespace
from course.paths import course_layout
from grader.notebooks import SOLUTION_MARKERS, read_notebook, student_answer
from grader.spec import load_checks
from grader.verify import run_check

LAYOUT = course_layout()
AXIS_FUNCS_SKIP = set()
DROP_CALLS = {"sqrt", "abs", "absolute", "square", "exp", "log", "sum", "mean", "maximum", "minimum", "transpose",
              "ravel", "flatten", "reshape", "astype", "copy", "float", "int", "sort", "argsort", "max", "min"}


# --------------------------------------------------------------------------- the solution


def student_lines(aid: str) -> dict:
    """``{function: set of line numbers of its def (1 = the def line) that the student writes}``.

    Those are the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the rest of a def
    (signature, docstring, input checks the notebook gives) is the course's code, not mutated.
    """
    found = {}
    for nb_path in LAYOUT.source_notebooks(aid):
        for cell in read_notebook(nb_path).cells:
            if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
                continue
            inside, flags = False, []
            for line in cell.source.splitlines(keepends=True):
                if SOLUTION_MARKERS.fullmatch(line if line.endswith("\n") else line + "\n"):
                    inside = "BEGIN" in line
                    continue
                flags.append(inside)
            source = student_answer(cell.source)
            if not any(flags):
                flags = [True] * len(flags)  # no markers: the whole cell is the student's
            for node in ast.parse(source).body:
                if isinstance(node, ast.FunctionDef):
                    found[node.name] = {n - node.lineno + 1 for n in range(node.lineno, node.end_lineno + 1)
                                        if n - 1 < len(flags) and flags[n - 1]}
    return found


# --------------------------------------------------------------------------- mutants


class _Sites(ast.NodeVisitor):
    """Collects (node path, mutation) pairs inside one function."""

    def __init__(self, lines=None):
        self.sites = []
        self.lines = lines

    def visit_JoinedStr(self, node):
        """f-strings are messages (an error's text): changing them changes no result, so no mutants there."""

    def generic_visit(self, node):
        # Only the student's lines are mutated, and every return: a wrong result (its sign, shape,
        # a constant) is a mistake wherever the return statement stands.
        if self.lines is None or isinstance(node, ast.Return) or _within(node, self.lines):
            for kind, label in _mutations_of(node):
                self.sites.append((node, kind, label))
        super().generic_visit(node)


def _within(node, lines) -> bool:
    start = getattr(node, "lineno", None)
    end = getattr(node, "end_lineno", start)
    return start is not None and all(n in lines for n in range(start, end + 1))


def _mutations_of(node) -> list:
    out = []
    if isinstance(node, ast.BinOp):
        swaps = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
                 ast.FloorDiv: ast.Div}
        if type(node.op) in swaps:
            kind = "sign flip" if isinstance(node.op, (ast.Add, ast.Sub)) else "operator"
            out.append((kind, f"{type(node.op).__name__} -> {swaps[type(node.op)].__name__}"))
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            out += [("missing term", "keep the left operand only"), ("missing term", "keep the right operand only")]
        if isinstance(node.op, ast.MatMult):
            out.append(("transposed result", "a @ b -> b @ a"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        out.append(("sign flip", "-x -> x"))
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        out += [("off-by-one", f"{node.value} -> {node.value + 1}"),
                ("off-by-one", f"{node.value} -> {node.value - 1}")]
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        swaps = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq}
        if type(node.ops[0]) in swaps:
            out.append(("operator", f"{type(node.ops[0]).__name__} -> {swaps[type(node.ops[0])].__name__}"))
    elif isinstance(node, ast.keyword) and node.arg == "axis":
        out += [("wrong axis", "another axis"), ("wrong axis", "axis dropped")]
    elif isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "range" and len(node.args) == 1:
            out += [("off-by-one", "range(n) -> range(n - 1)"), ("off-by-one", "range(n) -> range(1, n)")]
        if name in DROP_CALLS and len(node.args) >= 1 and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name):
            out.append(("missing term", f"{name}(x) -> x"))
        elif name in DROP_CALLS and isinstance(node.func, ast.Attribute) and not node.args:
            out.append(("missing term", f"x.{name}() -> x"))
    elif isinstance(node, ast.Return) and node.value is not None:
        out += [("sign flip", "return x -> return -x"), ("transposed result", "return x -> return x.T"),
                ("constant output", "return x -> return np.zeros_like(x)")]
    return out


def _apply(node, kind: str, label: str):
    """Returns the replacement of ``node`` for one mutation (a new node), or None to drop it."""
    if isinstance(node, ast.BinOp):
        if label.startswith("keep the left"):
            return node.left
        if label.startswith("keep the right"):
            return node.right
        if label == "a @ b -> b @ a":
            return ast.BinOp(left=node.right, op=node.op, right=node.left)
        swaps = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
                 ast.FloorDiv: ast.Div}
        return ast.BinOp(left=node.left, op=swaps[type(node.op)](), right=node.right)
    if isinstance(node, ast.UnaryOp):
        return node.operand
    if isinstance(node, ast.Constant):
        return ast.Constant(value=int(label.split("->")[1]))
    if isinstance(node, ast.Compare):
        swaps = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq}
        return ast.Compare(left=node.left, ops=[swaps[type(node.ops[0])]()], comparators=node.comparators)
    if isinstance(node, ast.keyword):
        if label == "axis dropped":
            return ast.keyword(arg="axis", value=ast.Constant(value=None))
        value = node.value.value if isinstance(node.value, ast.Constant) else None
        other = {0: 1, 1: 0, -1: 0, 2: 1}.get(value, 0) if isinstance(value, int) else 0
        return ast.keyword(arg="axis", value=ast.Constant(value=other))
    if isinstance(node, ast.Call):
        if label == "range(n) -> range(n - 1)":
            return ast.Call(func=node.func, args=[ast.BinOp(left=node.args[0], op=ast.Sub(), right=ast.Constant(1))],
                            keywords=[])
        if label == "range(n) -> range(1, n)":
            return ast.Call(func=node.func, args=[ast.Constant(1), node.args[0]], keywords=[])
        if label.endswith("(x) -> x"):
            return node.args[0]
        return node.func.value  # x.name() -> x
    if isinstance(node, ast.Return):
        value = node.value
        if label == "return x -> return -x":
            new = ast.UnaryOp(op=ast.USub(), operand=value)
        elif label == "return x -> return x.T":
            # np.swapaxes(np.atleast_2d(x), 0, -1): x.T, and a 1-D result becomes a column (N, 1)
            np_ = ast.Call(func=ast.Name("__import__", ast.Load()), args=[ast.Constant("numpy")], keywords=[])
            inner = ast.Call(func=ast.Attribute(value=np_, attr="atleast_2d", ctx=ast.Load()), args=[value],
                             keywords=[])
            new = ast.Call(func=ast.Attribute(value=copy.deepcopy(np_), attr="swapaxes", ctx=ast.Load()),
                           args=[inner, ast.Constant(0), ast.Constant(-1)], keywords=[])
        else:
            new = ast.Call(func=ast.Attribute(value=ast.Call(func=ast.Name("__import__", ast.Load()),
                                                             args=[ast.Constant("numpy")], keywords=[]),
                                              attr="zeros_like", ctx=ast.Load()), args=[value], keywords=[])
        return ast.Return(value=new)
    raise ValueError(kind)


class _Replace(ast.NodeTransformer):
    def __init__(self, target, replacement):
        self.target, self.replacement = target, replacement

    def visit(self, node):
        if node is self.target:
            return self.replacement
        return super().visit(node)


def mutants(def_source: str, lines: set | None = None) -> list:
    """``(kind, description, source)`` of every single-change mutant of one function's source.

    Args:
        def_source: the source of one ``def``.
        lines: line numbers (1 = the def line) that may be mutated; None for all. Return statements
            are mutated wherever they are.
    """
    tree = ast.parse(def_source)
    func = tree.body[0]
    sites = _Sites(lines)
    for stmt in func.body:
        sites.visit(stmt)
    found = []
    for index, (node, kind, label) in enumerate(sites.sites):
        clone = copy.deepcopy(tree)
        clone_sites = _Sites(lines)
        for stmt in clone.body[0].body:
            clone_sites.visit(stmt)
        target = clone_sites.sites[index][0]
        replacement = _apply(target, kind, label)
        new_tree = ast.fix_missing_locations(_Replace(target, replacement).visit(clone))
        try:
            source = ast.unparse(new_tree)
        except Exception:  # noqa: BLE001 - a mutant AST that cannot be unparsed is skipped
            continue
        line = getattr(node, "lineno", None)
        found.append((kind, f"{label} (line {line})" if line else label, source))
    # statement deletion (not the last statement, not a docstring)
    body = func.body
    for i, stmt in enumerate(body[:-1]):
        if isinstance(stmt, ast.Expr) and isinstance(getattr(stmt, "value", None), ast.Constant):
            continue
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.For, ast.If)) and \
                (lines is None or _within(stmt, lines)):
            clone = copy.deepcopy(tree)
            del clone.body[0].body[i]
            found.append(("missing term", f"statement on line {stmt.lineno} removed", ast.unparse(clone)))
        if isinstance(stmt, ast.For):
            for j, inner in enumerate(stmt.body):
                if isinstance(inner, (ast.Assign, ast.AugAssign)) and len(stmt.body) > 1 and \
                        (lines is None or _within(inner, lines)):
                    clone = copy.deepcopy(tree)
                    del clone.body[0].body[i].body[j]
                    found.append(("missing term", f"statement on line {inner.lineno} removed", ast.unparse(clone)))
    seen, unique = {ast.unparse(ast.parse(def_source))}, []
    for kind, label, source in found:
        if source not in seen:
            seen.add(source)
            unique.append((kind, label, source))
    return unique


# --------------------------------------------------------------------------- running


class _Timeout(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Timeout()


def survives(check, namespace: dict, name: str, source: str, timeout: float, tag: str) -> tuple:
    """Runs the check on a function defined by ``source``; returns ``(passed, reason)``."""
    ns = dict(namespace)
    filename = f"<{tag}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    try:
        exec(compile(source, filename, "exec"), ns)
    except Exception as exc:  # noqa: BLE001 - a mutant that does not even run is killed
        return False, f"does not compile: {exc}"
    import warnings

    warnings.simplefilter("ignore")
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        run_check(check, ns[name], name)
        return True, "passed"
    except _Timeout:
        return False, f"timeout ({timeout:g} s)"
    except Exception as exc:  # noqa: BLE001 - CheckFailure or an error: killed
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def alternatives(aid: str) -> dict:
    path = LAYOUT.alternatives_file(aid)
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"alternatives_{aid}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ALTERNATIVES


def equivalent_mutants(aid: str) -> dict:
    """``{function: {changed line: why it is equivalent}}`` from ``autograder/equivalent_mutants.py``."""
    from autograder.equivalent_mutants import EQUIVALENT

    return EQUIVALENT.get(aid, {})


def changed_lines(original: str, mutant: str) -> str:
    """The mutant's change in one line: ``old line -> new line``, or ``removed: <line>``."""
    import difflib

    before = ast.unparse(ast.parse(original)).splitlines()
    diff = list(difflib.ndiff(before, mutant.splitlines()))
    added = [line[2:].strip() for line in diff if line.startswith("+ ")]
    removed = [line[2:].strip() for line in diff if line.startswith("- ")]
    if added:
        return f"{' / '.join(removed)} -> {' / '.join(added)}"
    return "removed: " + " / ".join(removed)


#: how many times ``timeout`` the reference solution may take (it sets the mutants' limit)
SOLUTION_ROOM = 10


def mutation_report(aid: str, functions: list | None = None, timeout: float = 10.0, max_mutants: int | None = None,
                    log=print) -> dict:
    """Runs the mutation test of one assignment; returns ``{function: {...}}`` and logs a report."""
    checks = load_checks(aid)
    namespace, defs = solution_namespace(aid)
    report = {}
    names = functions or sorted(checks)
    alts = alternatives(aid)
    lines = student_lines(aid)
    equivalents = equivalent_mutants(aid)
    for name in names:
        if name not in checks:
            raise KeyError(f"{aid} has no hidden check {name!r}; known: {sorted(checks)}")
        if name not in defs:
            log(f"{aid}/{name}: no def in the solution's answer cells; skipped")
            continue
        start = time.monotonic()
        # The solution first, with room to spare; the mutants then get the larger of ``timeout`` and 5x the
        # solution's own time, so that a loaded machine (CI runs two test workers) slows both alike.
        ok, reason = survives(checks[name], namespace, name, defs[name], SOLUTION_ROOM * timeout, f"solution {name}")
        if not ok:
            raise RuntimeError(f"{aid}/{name}: the solution itself fails its check: {reason}")
        timeout_here = max(timeout, 5 * (time.monotonic() - start))
        found = mutants(defs[name], lines.get(name))
        if max_mutants:
            found = found[:max_mutants]
        declared = equivalents.get(name, {})
        survivors, equivalent, equivalent_killed, kinds, changes = [], [], [], {}, set()
        for i, (kind, label, source) in enumerate(found):
            passed, why = survives(checks[name], namespace, name, source, timeout_here, f"mutant {name} {i}")
            change = changed_lines(defs[name], source)
            changes.add(change)
            if change in declared:
                # Equivalent to the solution by the contract: not counted; the check must accept it.
                (equivalent if passed else equivalent_killed).append(
                    f"{kind}: {label}: `{change}` ({declared[change]})" + ("" if passed else f": {why}"))
                continue
            k = kinds.setdefault(kind, [0, 0])
            k[0] += 1
            if passed:
                survivors.append(f"{kind}: {label}: `{change}`")
            else:
                k[1] += 1
        unused = sorted(set(declared) - changes)
        alt_failures = []
        for i, source in enumerate(alts.get(name, [])):
            passed, why = survives(checks[name], namespace, name, source, timeout_here, f"alternative {name} {i}")
            if not passed:
                alt_failures.append(f"alternative {i + 1}: {why}")
        alt_failures += [f"declared equivalent, but the check rejects it: {e}" for e in equivalent_killed]
        if unused and not max_mutants:
            alt_failures += [f"declared equivalent, but no such mutant: `{u}` (update equivalent_mutants.py)"
                             for u in unused]
        total = len(found) - len(equivalent) - len(equivalent_killed)
        killed = total - len(survivors)
        score = 100.0 * killed / total if total else 100.0
        report[name] = dict(mutants=total, killed=killed, score=round(score, 1), survivors=survivors,
                            equivalent=equivalent,
                            by_kind={k: f"{v[1]}/{v[0]}" for k, v in kinds.items()},
                            alternatives=len(alts.get(name, [])), alternative_failures=alt_failures,
                            seconds=round(time.monotonic() - start, 1))
        log(f"{aid}/{name}: {killed}/{total} mutants killed ({score:.1f} %), "
            f"{len(equivalent)} equivalent not counted, "
            f"{len(alts.get(name, [])) - len(alt_failures)}/{len(alts.get(name, []))} alternatives pass "
            f"[{', '.join(f'{k} {v}' for k, v in report[name]['by_kind'].items())}]")
        for s in survivors:
            log(f"    survivor: {s}")
        for e in equivalent:
            log(f"    equivalent: {e}")
        for f in alt_failures:
            log(f"    FAILED {f}")
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", metavar="ID")
    parser.add_argument("--all", action="store_true", help="every assignment with checks")
    parser.add_argument("--functions", nargs="+", metavar="FN", help="only these functions")
    parser.add_argument("--min-score", type=float, default=95.0, help="percent of mutants to kill (default 95)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds per mutant, at least (default 10; 5x the solution's own time when longer)")
    parser.add_argument("--max-mutants", type=int, help="at most this many mutants per function")
    parser.add_argument("--json", type=Path, help="write the report as JSON")
    args = parser.parse_args(argv)
    ids = args.assignments or []
    if args.all or not ids:
        ids = sorted(p.stem for p in LAYOUT.checks_dir.glob("*.py"))
    full, status = {}, 0
    for aid in ids:
        report = mutation_report(aid, args.functions, args.timeout, args.max_mutants)
        full[aid] = report
        for r in report.values():
            if r["score"] < args.min_score or r["alternative_failures"]:
                status = 1
    if args.json:
        args.json.write_text(json.dumps(full, indent=1))
    low = [f"{a}/{n} ({r['score']} %)" for a, rep in full.items() for n, r in rep.items()
           if r["score"] < args.min_score]
    print(f"functions below {args.min_score:g} %: {', '.join(low) if low else 'none'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
