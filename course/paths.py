"""Where the course's files are: the one owner of every path inside the repository.

    layout = course_layout()                    # the repository this package belongs to
    layout.source_notebook("01_knn", "01_knn.ipynb")
    layout.checks_file("01_knn")                # autograder/checks/01_knn.py

Nothing else builds ``root / "solutions" / ...`` by hand: a folder that moves, moves here.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from course.protocol import DATA_ENV, ROOT_ENV


def repo_root() -> Path | None:
    """Returns the course repository's root, or ``None`` for an installed copy without one.

    ``COURSE_ROOT`` wins; otherwise the folder above this package, when it holds
    ``nbgrader_config.py`` (an editable install or a clone).
    """
    env = os.environ.get(ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    candidate = Path(__file__).resolve().parents[1]
    if (candidate / "nbgrader_config.py").is_file():
        return candidate
    return None


def data_dir() -> Path:
    """Returns the course data cache: ``$COURSE_DATA``, else ``<repo>/data``, else ``~/.cache/dl-course``."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    root = repo_root()
    if root is not None:
        return Layout(root).data
    return Path.home() / ".cache" / "dl-course"


@dataclass(frozen=True)
class Layout:
    """The folders and files of a course repository rooted at ``root``."""

    root: Path

    # ------------------------------------------------------------------ notebooks
    @property
    def solutions(self) -> Path:
        """``solutions/``: the nbgrader source notebooks (instructor versions)."""
        return self.root / "solutions"

    @property
    def notebooks(self) -> Path:
        """``notebooks/``: the student notebooks, generated from ``solutions/``."""
        return self.root / "notebooks"

    def source_dir(self, assignment_id: str) -> Path:
        return self.solutions / assignment_id

    def source_notebook(self, assignment_id: str, name: str) -> Path:
        return self.source_dir(assignment_id) / name

    def source_notebooks(self, assignment_id: str) -> list[Path]:
        """The assignment's source notebooks, sorted (empty for an unknown assignment)."""
        return sorted(self.source_dir(assignment_id).glob("*.ipynb"))

    def release_dir(self, assignment_id: str) -> Path:
        return self.notebooks / assignment_id

    def release_notebook(self, assignment_id: str, name: str) -> Path:
        return self.release_dir(assignment_id) / name

    def assignment_ids(self) -> list[str]:
        """The ids of the assignments that have a source notebook, sorted (``01_knn``, ...)."""
        if not self.solutions.is_dir():
            return []
        return sorted(p.name for p in self.solutions.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    # ------------------------------------------------------------------ the autograder's files
    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    @property
    def checks_dir(self) -> Path:
        return self.autograder / "checks"

    def checks_file(self, assignment_id: str) -> Path:
        """The hidden checks of an assignment (``CHECKS``: function name -> ``FunctionCheck``)."""
        return self.checks_dir / f"{assignment_id}.py"

    @property
    def references_dir(self) -> Path:
        return self.autograder / "references"

    def references_file(self, assignment_id: str) -> Path:
        """The reference results of an assignment, per profile, with their provenance."""
        return self.references_dir / f"{assignment_id}.json"

    def samples_dir(self, assignment_id: str | None = None) -> Path:
        """``autograder/samples/<id>/<sample>/<id>/<notebook>``: submissions with known scores."""
        folder = self.autograder / "samples"
        return folder / assignment_id if assignment_id else folder

    @property
    def sample_specs_dir(self) -> Path:
        return self.autograder / "sample_specs"

    def sample_specs_file(self, assignment_id: str) -> Path:
        """``SAMPLES`` of an assignment: how each sample is built and the score it must get."""
        return self.sample_specs_dir / f"{assignment_id}.py"

    @property
    def equivalent_mutants_file(self) -> Path:
        return self.autograder / "equivalent_mutants.py"

    def alternatives_file(self, assignment_id: str) -> Path:
        return self.autograder / "alternatives" / f"{assignment_id}.py"

    # ------------------------------------------------------------------ nbgrader and local state
    @property
    def nbgrader_config(self) -> Path:
        return self.root / "nbgrader_config.py"

    @property
    def grading(self) -> Path:
        """``grading/``: nbgrader's working folders and gradebook (git-ignored)."""
        return self.root / "grading"

    @property
    def release_manifest(self) -> Path:
        """What ``course release`` last wrote into ``notebooks/`` (git-ignored; see ``grader.release``)."""
        return self.root / ".course" / "released.json"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def models(self) -> Path:
        """``data/models/``: the shipped base models and their provenance."""
        return self.data / "models"


def course_layout(root: Path | None = None) -> Layout:
    """Returns the layout of the course repository (``root``, else ``repo_root()``).

    Raises:
        FileNotFoundError: in an installed copy without the repository.
    """
    root = Path(root) if root is not None else repo_root()
    if root is None:
        raise FileNotFoundError("the course repository was not found: run this from a clone of the course, "
                                "or set COURSE_ROOT to it")
    return Layout(Path(root).resolve())
