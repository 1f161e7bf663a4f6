"""Outcomes a notebook states, checked against its reference run.

    $ python -m autograder.outcomes                      # every claim of every solution notebook
    $ python -m autograder.outcomes 06_regularization    # one assignment

A notebook that says "batch norm helps here" or quotes "92.6 % test accuracy" makes a claim about its
reference run. The sentence carries the claim beside it, in an HTML comment that a reader does not see::

    Batch norm alone beats the baseline.
    <!-- outcome[full]: results["val_accuracy_batch_norm"] > results["baseline_val_accuracy"] -->

``outcome[quick]``, ``outcome[full]`` or ``outcome[*]`` (both profiles). The expression reads the
profile's recorded results (``course.results.record`` in the notebook, stored in
``autograder/references/<id>.json``) as ``results``, and may use numbers, comparisons, arithmetic,
``abs min max round all any len sum sorted float`` and a dict's ``values keys items get``. Nothing else: other
names, attributes and calls are refused when the claim is read, so a claim is a statement, not code.
``tests/test_outcomes.py`` fails when a claim is false or cannot be evaluated, so the text and the
reference cannot drift apart when the experiments change and the references are rebuilt.
``course release`` leaves the claims out of the student's copy (``grader.claims``).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from course.paths import course_layout
from grader.claims import CLAIM

PROFILES = ("quick", "full")
ALLOWED_FUNCTIONS = {"abs": abs, "min": min, "max": max, "round": round, "all": all, "any": any,
                     "len": len, "sum": sum, "sorted": sorted, "float": float}
ALLOWED_METHODS = {"values", "keys", "items", "get"}  # of a dict of results
ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.Name,
                 ast.Load, ast.Constant, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.IfExp,
                 ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult, ast.Div,
                 ast.FloorDiv, ast.Mod, ast.Pow, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
                 ast.In, ast.NotIn, ast.GeneratorExp, ast.keyword, ast.comprehension, ast.Store)


class ClaimError(ValueError):
    """A claim that cannot be read or evaluated."""


@dataclass(frozen=True)
class Claim:
    """One stated outcome: where it is, for which profiles, and the expression."""

    assignment: str
    cell: int
    profiles: tuple[str, ...]
    expression: str
    sentence: str

    def where(self) -> str:
        return f"{self.assignment} cell {self.cell} [{','.join(self.profiles)}]: {self.expression}"


def _profiles(spec: str, where: str) -> tuple[str, ...]:
    spec = spec.strip()
    if spec == "*":
        return PROFILES
    if spec in PROFILES:
        return (spec,)
    raise ClaimError(f"{where}: outcome[{spec}] names no profile; use quick, full or *")


def _sentence_before(text: str, start: int) -> str:
    """The prose just before a claim (what a reader is told), for messages."""
    before = CLAIM.sub("", text[:start]).strip()
    return before.splitlines()[-1].strip() if before else ""


def _check_syntax(expression: str, where: str) -> ast.Expression:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise ClaimError(f"{where}: not a Python expression ({error.msg}): {expression.strip()!r}") from None
    comprehension_names = {n.id for node in ast.walk(tree) if isinstance(node, ast.comprehension)
                           for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in {"results", *ALLOWED_FUNCTIONS, *comprehension_names}:
            raise ClaimError(f"{where}: unknown name {node.id!r} in a claim (only results and "
                             f"{', '.join(sorted(ALLOWED_FUNCTIONS))}): {expression.strip()!r}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ALLOWED_METHODS:
            continue
        if not isinstance(node, ALLOWED_NODES):
            raise ClaimError(f"{where}: {type(node).__name__} is not allowed in a claim: {expression.strip()!r}")
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in ALLOWED_FUNCTIONS
                or isinstance(node.func, ast.Attribute) and node.func.attr in ALLOWED_METHODS):
            raise ClaimError(f"{where}: only {', '.join(sorted(ALLOWED_FUNCTIONS))} may be called in a claim: "
                             f"{expression.strip()!r}")
    return tree


def claims_in_text(text: str, assignment: str = "?", cell: int = -1) -> list[Claim]:
    """The claims of one markdown text, checked for syntax."""
    found = []
    for match in CLAIM.finditer(text):
        where = f"{assignment} cell {cell}"
        _check_syntax(match["expr"], where)
        found.append(Claim(assignment, cell, _profiles(match["profile"], where), match["expr"].strip(),
                           _sentence_before(text, match.start())))
    return found


def notebook_claims(path: Path, assignment: str) -> list[Claim]:
    """Every claim in the markdown cells of a notebook file."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            found += claims_in_text(source, assignment, index)
    return found


def evaluate(claim: Claim, results: dict) -> bool:
    """The claim's truth for one profile's recorded results.

    Raises:
        ClaimError: a result the claim reads was not recorded, or the expression fails.
    """
    code = compile(_check_syntax(claim.expression, claim.where()), claim.where(), "eval")
    try:
        value = eval(code, {"__builtins__": {}, **ALLOWED_FUNCTIONS, "results": results})
    except KeyError as error:
        raise ClaimError(f"{claim.where()}: the reference records no {error.args[0]!r} "
                         f"(it has {', '.join(sorted(map(str, results)))})") from None
    except Exception as error:  # noqa: BLE001  any failure of the expression is the claim's fault
        raise ClaimError(f"{claim.where()}: {type(error).__name__}: {error}") from None
    if not isinstance(value, bool):
        raise ClaimError(f"{claim.where()}: a claim must be true or false, this one is {value!r}")
    return value


def reference_results(assignment: str, profile: str) -> dict | None:
    path = course_layout().references_file(assignment)
    if not path.is_file():
        return None
    entry = json.loads(path.read_text(encoding="utf-8")).get("profiles", {}).get(profile)
    return entry["results"] if entry else None


def verdicts(assignment: str, notebook: Path | None = None, references=None):
    """``(claim, profile, problem)`` for every claim and profile; ``problem`` is None where the claim holds.

    Args:
        assignment: the assignment id.
        notebook: the notebook to read (default: its solution notebook).
        references: ``(assignment, profile) -> results or None`` (default: the reference JSON).
    """
    notebook = notebook or course_layout().source_notebook(assignment, f"{assignment}.ipynb")
    references = references or reference_results
    for claim in notebook_claims(notebook, assignment):
        for profile in claim.profiles:
            results = references(assignment, profile)
            if results is None:
                yield claim, profile, f"{claim.where()}: no {profile} reference to check it against"
                continue
            try:
                holds = evaluate(claim, results)
            except ClaimError as error:
                yield claim, profile, str(error)
                continue
            yield claim, profile, None if holds else (f"{claim.where()} is false in the {profile} reference "
                                                      f"(the text: {claim.sentence!r})")


def false_claims(assignment: str, notebook: Path | None = None, references=None) -> list[str]:
    """What is wrong with an assignment's claims: one line per false or broken claim (empty: all hold)."""
    return [problem for _, _, problem in verdicts(assignment, notebook, references) if problem]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    args = parser.parse_args(argv)
    failed = 0
    for aid in args.assignments or course_layout().assignment_ids():
        try:
            for claim, profile, problem in verdicts(aid):
                failed += problem is not None
                print(f"holds  {aid} cell {claim.cell} [{profile}] {claim.expression}" if problem is None
                      else f"FAILS  {problem}")
        except ClaimError as error:  # a claim that cannot be read
            print(f"BROKEN {error}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
