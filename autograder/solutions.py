"""A solution notebook's answers as Python: its answer cells executed in one namespace, no kernel.

Mutation testing mutates these functions; the check tests and benchmarks call them.
"""

import ast
import linecache

import numpy as np

from course.paths import course_layout
from grader.notebooks import read_notebook, student_answer


def _is_docstring(node) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def solution_namespace(aid: str, extra: dict | None = None, imports: bool = True) -> tuple:
    """Executes a solution notebook's answer cells (markers removed); returns ``(namespace, defs)``.

    Args:
        aid: the assignment.
        extra: names to put in the namespace first.
        imports: also run the imports of the set-up cells (``tf``, ``keras``, ``layers`` ...). The ungraded
            cells that only define functions (helpers that an answer calls, as 07's ``minibatches``) run
            either way.

    Returns:
        the namespace, and ``{function: its def's source}``. Like IPython, each cell's source is
        kept where ``inspect.getsource`` finds it (for the checks' source rules).
    """
    namespace = {"np": np, "__name__": f"solution_{aid}", **(extra or {})}
    defs = {}
    for nb_path in course_layout().source_notebooks(aid):
        nb = read_notebook(nb_path)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            source = student_answer(cell.source)
            if meta.get("solution"):
                filename = f"<solution {meta['grade_id']}>"
                linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
                exec(compile(source, filename, "exec"), namespace)
                tree = ast.parse(source)
                for node in tree.body:
                    if isinstance(node, ast.FunctionDef):
                        defs[node.name] = ast.get_source_segment(source, node)
            elif not meta.get("grade"):
                # the imports of the set-up cells (tf, keras, layers ...), and the helpers of cells that
                # only define functions (07's minibatches, which its train_convnet calls); nothing else
                try:
                    from IPython.core.inputtransformer2 import TransformerManager

                    tree = ast.parse(TransformerManager().transform_cell(source))
                except (SyntaxError, ImportError):
                    continue
                wanted = (ast.Import, ast.ImportFrom, ast.FunctionDef)
                helpers_only = tree.body and all(isinstance(n, wanted) or _is_docstring(n) for n in tree.body)
                if helpers_only:  # the whole cell: keep its source where AutoGraph and inspect look
                    filename = f"<helpers {nb_path.stem} {nb.cells.index(cell)}>"
                    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
                    try:
                        exec(compile(source, filename, "exec"), namespace)
                    except NameError:
                        pass  # an experiment's helper whose defaults read the notebook's state (SEED ...)
                elif imports:
                    kept = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
                    exec(compile(ast.Module(body=kept, type_ignores=[]), "<set-up>", "exec"), namespace)
    return namespace, defs
