"""Generating the student notebooks (``notebooks/``) from the sources (``solutions/``) with nbgrader.

``release()`` generates into a temporary folder and then installs each notebook into
``notebooks/<id>/``, **never overwriting a student's work**: a notebook there that differs from
what ``release`` last wrote (someone worked in it) is kept under a timestamped name beside the new
copy, ``<name>.mine-<YYYYmmdd-HHMMSS>.ipynb``, and ``release`` says so. What it last wrote is
recorded in a git-ignored manifest (``course.paths.Layout.release_manifest``: file -> SHA-256);
without a manifest (a fresh clone) the committed version, as git has it, counts as what was
written. Each student notebook begins with the cells that install the course where it is missing
(``grader.install_cell``: Colab). ``release_differences()`` releases into a temporary folder and lists how the committed
student notebooks differ from what release produces.
"""

import datetime
import filecmp
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course.paths import Layout, course_layout
from grader.answers import answers_differences, write_answers
from grader.claims import strip_claims
from grader.install_cell import add_install_cells
from grader.nbgrader_bridge import make_api, require_success
from grader.notebooks import clean_notebook, read_notebook, write_notebook

#: how a kept copy of a student's edited notebook is named (beside the new one)
KEPT_SUFFIX = ".mine-"


@dataclass
class Released:
    """One notebook that ``release`` installed, and the student's copy it kept, if any."""

    path: Path
    kept: Path | None = None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_manifest(layout: Layout) -> dict:
    try:
        return json.loads(layout.release_manifest.read_text())
    except (OSError, ValueError):
        return {}


def _write_manifest(layout: Layout, manifest: dict) -> None:
    layout.release_manifest.parent.mkdir(parents=True, exist_ok=True)
    tmp = layout.release_manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    tmp.replace(layout.release_manifest)


def _committed_sha256(layout: Layout, path: Path) -> str | None:
    """The SHA-256 of the file as git's HEAD has it, or ``None`` (not tracked, no git)."""
    try:
        rel = path.resolve().relative_to(layout.root)
        blob = subprocess.run(["git", "-C", str(layout.root), "show", f"HEAD:{rel.as_posix()}"],
                              capture_output=True, timeout=30)
    except (ValueError, OSError, subprocess.SubprocessError):
        return None
    return hashlib.sha256(blob.stdout).hexdigest() if blob.returncode == 0 else None


def is_pristine(layout: Layout, path: Path, manifest: dict) -> bool:
    """Whether ``path`` holds exactly what ``release`` last wrote there (nobody worked in it)."""
    digest = _sha256(path)
    where = path.resolve()
    key = where.relative_to(layout.root).as_posix() if where.is_relative_to(layout.root) else str(path)
    if key in manifest:
        return manifest[key] == digest
    return digest == _committed_sha256(layout, path)


def _install(layout: Layout, fresh: Path, target: Path, manifest: dict, stamp: str) -> Released:
    """Copies a freshly generated notebook to ``target``, keeping a student's edited copy first."""
    kept = None
    if target.is_file() and not filecmp.cmp(fresh, target, shallow=False) and not is_pristine(layout, target, manifest):
        kept = target.with_name(f"{target.stem}{KEPT_SUFFIX}{stamp}{target.suffix}")
        shutil.copy2(target, kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".ipynb.tmp")
    shutil.copyfile(fresh, tmp)
    tmp.replace(target)
    manifest[target.resolve().relative_to(layout.root).as_posix()] = _sha256(target)
    return Released(target, kept)


def _generate(layout: Layout, ids: list[str], out_dir: Path, db_url: str | None) -> None:
    """Runs nbgrader's ``generate_assignment`` into ``out_dir`` and cleans what it wrote."""
    overrides = {"release_directory": Path(out_dir).resolve()}
    if db_url is not None:
        overrides["db_url"] = db_url
    layout.grading.mkdir(exist_ok=True)
    api = make_api(layout, **overrides)
    for aid in ids:
        if not layout.source_dir(aid).is_dir():
            raise FileNotFoundError(f"no assignment {aid!r} in solutions/ (have: {', '.join(layout.assignment_ids())})")
        require_success(api.generate_assignment(aid, force=True, create=True), f"generate_assignment {aid}")
        for path in sorted((Path(out_dir) / aid).glob("*.ipynb")):
            write_notebook(clean_notebook(strip_claims(add_install_cells(read_notebook(path)))), path)


def release(ids: list[str] | None = None, layout: Layout | None = None, db_url: str | None = None,
            log=print) -> list[Released]:
    """Generates the student notebooks into ``notebooks/<id>/``, keeping any work found there.

    Args:
        ids: assignment ids (default: all).
        layout: the course repository (default: this package's).
        db_url: gradebook to record the assignments in (default: the course's).
        log: where to say that a student's notebook was kept.

    Returns:
        one ``Released`` per notebook written.
    """
    layout = layout or course_layout()
    ids = ids or layout.assignment_ids()
    manifest = _read_manifest(layout)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    written = []
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        _generate(layout, ids, Path(tmp), db_url)
        try:
            for aid in ids:
                for fresh in sorted((Path(tmp) / aid).glob("*.ipynb")):
                    done = _install(layout, fresh, layout.release_notebook(aid, fresh.name), manifest, stamp)
                    if done.kept is not None:
                        log(f"KEPT YOUR WORK: {done.path} differed from the last generated copy (someone worked in "
                            f"it); it is now {done.kept}, and {done.path} is the new student notebook")
                    written.append(done)
        finally:
            _write_manifest(layout, manifest)
    for path in write_answers(layout, ids):
        log(f"wrote {path}")
    return written


def release_differences(ids: list[str] | None = None, layout: Layout | None = None) -> list[str]:
    """Releases into a temporary folder and returns how ``notebooks/`` differs (empty when in sync)."""
    layout = layout or course_layout()
    ids = ids or layout.assignment_ids()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "release"
        _generate(layout, ids, fresh, f"sqlite:///{Path(tmp) / 'gradebook.db'}")
        problems = []
        for aid in ids:
            problems += _compare_trees(fresh / aid, layout.release_dir(aid))
    return problems + answers_differences(layout, ids)


def _compare_trees(fresh: Path, committed: Path) -> list[str]:
    def files(folder):
        if not folder.is_dir():
            return set()
        return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and KEPT_SUFFIX not in p.name}

    problems = []
    a, b = files(fresh), files(committed)
    for rel in sorted(a - b):
        problems.append(f"{committed / rel}: missing (release generates it)")
    for rel in sorted(b - a):
        problems.append(f"{committed / rel}: not generated by release (remove it or add it to solutions/)")
    for rel in sorted(a & b):
        if not filecmp.cmp(fresh / rel, committed / rel, shallow=False):
            problems.append(f"{committed / rel}: differs from what release generates")
    return problems
