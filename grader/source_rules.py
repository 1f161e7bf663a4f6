"""Building blocks of the checks' source rules ("no loops", "no library that does the exercise").

A check's ``source_rules(source)`` receives the ``def`` of the student's function as the notebook
defines it (``grader.verify.notebook_function_source``) and raises ``CheckFailure`` when it breaks a
rule of the exercise. These helpers read that source; the rules themselves stay in the check files.
"""

import ast
import textwrap

#: the nodes that make a Python-level loop: statements and comprehensions
LOOP_NODES = (ast.For, ast.While, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def parse_function(source: str) -> ast.AST:
    """The AST of a function's source (indented sources are dedented first)."""
    return ast.parse(textwrap.dedent(source))


def loop_nodes(tree: ast.AST) -> list:
    """Every loop statement and comprehension in ``tree``, in walk order."""
    return [n for n in ast.walk(tree) if isinstance(n, LOOP_NODES)]


def names_used(tree: ast.AST) -> set:
    """Every name, attribute and imported top-level module in ``tree`` (``np.linalg.norm`` gives
    ``np``, ``linalg`` and ``norm``; ``import scipy.spatial`` gives ``scipy``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] + ([node.module] if getattr(node, "module", None) else [])
            found.update(m.split(".")[0] for m in modules)
    return found
