"""Every check in a visible test cell says what to look at when it fails (a hint).

``assert_close`` and ``assert_equal`` already require what was compared and with what (keyword-only
arguments); this test adds that each of them, and each ``assert_true`` and ``assert_shape``, also
passes a ``hint``. Assignments join the list once their notebooks follow the rule.
"""

import ast

import pytest

from helpers import solution_cells

ASSIGNMENTS = ["01_knn"]
HELPERS = {"assert_close", "assert_equal", "assert_true", "assert_shape"}


def _calls_without_hint(source: str) -> list[str]:
    missing = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in HELPERS:
            if not any(k.arg == "hint" for k in node.keywords):
                missing.append(f"{node.func.id} on line {node.lineno}")
    return missing


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_every_visible_check_gives_a_hint(aid):
    problems = {}
    for grade_id, cell in solution_cells(aid).items():
        meta = cell.metadata["nbgrader"]
        if meta.get("grade") and not meta.get("solution"):
            missing = _calls_without_hint(cell.source)
            if missing:
                problems[grade_id] = missing
    assert not problems, f"checks without a hint: {problems}"


def test_the_rule_finds_a_check_without_a_hint():
    assert _calls_without_hint('assert_true(x > 0, "x must be positive")') == ["assert_true on line 1"]
    assert _calls_without_hint('assert_true(x > 0, "x must be positive", hint="h")') == []
