"""The cells ``course release`` puts at the top of every student notebook: install the course where it is missing.

A student notebook opened outside the course's environment (Colab, a laptop with only Jupyter) has
no ``course`` package. The first code cell installs it, pinned to this release (``course.REPOSITORY``
at ``course.RELEASE_TAG``); where ``course`` imports (the course's JupyterLab, a hub, a grading
sandbox) it does nothing. ``$COURSE_PIP_SOURCE`` replaces what is installed (a wheel, a fork).
"""

import nbformat

import course

#: how the two cells begin (they are the release's, not the source's: found by their text)
MARKDOWN_TITLE = "### Running this notebook outside the course (Colab)"
CODE_FIRST_LINE = "# Installs the course package (this release) where it is missing; does nothing where it imports."


def pip_source() -> str:
    """What the install cell installs by default: the package from the repository at this release's tag."""
    return f"dl-course @ git+{course.REPOSITORY}@{course.RELEASE_TAG}"


def install_cells() -> list:
    """The markdown cell that says why, and the code cell that installs the course when it is missing."""
    text = (MARKDOWN_TITLE + "\n\n"
            "The next cell installs the course package, this release of it, when it is missing: on "
            "[Colab](https://colab.research.google.com) or any Python without the course. In the course's "
            "JupyterLab or hub it does nothing. The data (Fashion-MNIST) is then found in your caches or "
            "downloaded the way Keras does it, once.")
    code = (CODE_FIRST_LINE + "\n"
            "import importlib.util\n"
            "import os\n"
            "\n"
            'if importlib.util.find_spec("course") is None:\n'
            f'    _source = os.environ.get("COURSE_PIP_SOURCE", "{pip_source()}")\n'
            '    %pip install --quiet "{_source}"\n'
            "    importlib.invalidate_caches()")
    return [nbformat.v4.new_markdown_cell(text), nbformat.v4.new_code_cell(code)]


def is_install_cell(cell) -> bool:
    """Whether a cell is one of the two install cells (of this release or an earlier one)."""
    return cell.source.startswith(MARKDOWN_TITLE) or cell.source.startswith(CODE_FIRST_LINE)


def add_install_cells(nb):
    """Returns ``nb`` with the install cells after its title cell (once: present ones are replaced)."""
    cells = [c for c in nb.cells if not is_install_cell(c)]
    nb.cells = cells[:1] + install_cells() + cells[1:]
    return nb
