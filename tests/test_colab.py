"""A student notebook outside the course (Colab, a laptop): only the course's wheel, a notebook in an empty folder.

The notebook's first code cell installs the course package when it is missing (``grader.install_cell``);
the test points it at the wheel built from this checkout (``COURSE_PIP_SOURCE``; on Colab it installs
from the repository at the release tag). The data comes from Keras' cache in a fresh home folder.
The dependencies (TensorFlow, Jupyter: 2 GB) are not installed again: the fresh environment sees
the course environment's packages, *except* the course itself, through a folder of links.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import course
from course.data import DEBIAN_DIR, FASHION_MNIST_SHA256, locate_fashion_mnist
from grader.install_cell import is_install_cell, pip_source
from grader.notebooks import read_notebook
from helpers import LAYOUT, ROOT


def test_every_student_notebook_begins_with_the_install_cells_of_this_release():
    for aid in LAYOUT.assignment_ids():
        for path in LAYOUT.release_dir(aid).glob("*.ipynb"):
            cells = read_notebook(path).cells
            assert [is_install_cell(c) for c in cells[:4]] == [False, True, True, False], path
            assert f'"{pip_source()}"' in cells[2].source
    assert pip_source() == f"dl-course @ git+{course.REPOSITORY}@v{course.__version__}"


def test_the_package_version_is_the_one_pyproject_builds():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == course.__version__


def _build_wheel(tmp: Path) -> Path:
    """Builds the course's wheel from a copy of the sources (the checkout is not written to)."""
    src = tmp / "src"
    for name in ("course", "grader"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "-w", str(tmp / "dist"), str(src)], check=True, timeout=300)
    (wheel,) = (tmp / "dist").glob("dl_course-*.whl")
    return wheel


def _fresh_env_without_the_course(tmp: Path) -> Path:
    """A new virtual environment that sees the course environment's packages but not the course."""
    env = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=300)
    shared = tmp / "dependencies"
    shared.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        name = entry.name.lower()
        if name.startswith(("dl_course", "__editable__", "course", "grader", "distutils-precedence")):
            continue
        (shared / entry.name).symlink_to(entry)
    (purelib,) = (env / "lib").glob("python3*/site-packages")
    (purelib / "course-dependencies.pth").write_text(str(shared) + "\n")
    return env


@pytest.mark.slow
def test_a_student_notebook_in_an_empty_folder_installs_the_wheel_and_runs(tmp_path):
    if not (DEBIAN_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no Fashion-MNIST at {DEBIAN_DIR} to fill the Keras cache with (make data)")
    wheel = _build_wheel(tmp_path)
    env = _fresh_env_without_the_course(tmp_path)
    python = env / "bin" / "python"
    home = tmp_path / "home"
    keras_cache = home / ".keras" / "datasets" / "fashion-mnist"
    keras_cache.mkdir(parents=True)
    source = locate_fashion_mnist(download=False)
    for name in FASHION_MNIST_SHA256:
        shutil.copy(source / name, keras_cache / name)
    folder = tmp_path / "empty"
    folder.mkdir()
    # the student notebook with its answers filled in (the "correct" sample), so that every cell runs
    shutil.copy(LAYOUT.samples_dir() / "01_knn" / "correct" / "01_knn" / "01_knn.ipynb", folder / "01_knn.ipynb")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    environ.update(HOME=str(home), COURSE_PROFILE="quick", COURSE_PIP_SOURCE=str(wheel),
                   PATH=f"{env / 'bin'}:{environ.get('PATH', '/usr/bin:/bin')}", PIP_NO_INDEX="1",
                   PIP_DISABLE_PIP_VERSION_CHECK="1")

    before = subprocess.run([str(python), "-c", "import course"], env=environ, cwd=folder, capture_output=True)
    assert before.returncode != 0, "the fresh environment must start without the course"
    run = subprocess.run([str(python), "-m", "nbconvert", "--to", "notebook", "--execute",
                          "--ExecutePreprocessor.timeout=600", "--output", "ran.ipynb", "01_knn.ipynb"],
                         env=environ, cwd=folder, capture_output=True, text=True, timeout=1200)
    print(run.stdout[-2000:], run.stderr[-4000:])
    assert run.returncode == 0
    ran = json.loads((folder / "ran.ipynb").read_text())
    text = "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                   for c in ran["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    assert "profile: quick" in text
    where = subprocess.run(
        [str(python), "-c", "import course, course.paths as p, course.data as d;"
                            "print(course.__file__); print(p.repo_root()); print(d.locate_fashion_mnist(False))"],
        env=environ, cwd=folder, capture_output=True, text=True, check=True).stdout.split("\n")
    assert where[0].startswith(str(env)), where  # the course came from the wheel, into the fresh environment
    assert where[1] == "None"  # no repository here
    assert where[2] == str(keras_cache)  # the data from Keras' cache
    assert "Visible test passed." in text


def test_outside_a_clone_a_missing_shipped_model_is_downloaded_from_the_release_and_verified(tmp_path, monkeypatch):
    from course import models

    cache = tmp_path / "cache" / "models"
    monkeypatch.setattr(models, "repo_root", lambda: None)
    monkeypatch.setattr(models, "models_dir", lambda: cache)
    monkeypatch.setenv(models.DOWNLOAD_ENV, ROOT.as_uri())  # the repository's files, as raw.githubusercontent has them
    folder = cache / "10_visualizing_convnets"
    path = models.verify_model("fashion_convnet", folder)
    assert path == folder / "fashion_convnet.keras" and path.is_file()
    assert (folder / "provenance.json").read_bytes() == (LAYOUT.data / "models" / "10_visualizing_convnets" /
                                                         "provenance.json").read_bytes()

    # a download that does not match its recorded SHA-256 is refused
    path.write_bytes(b"not a model")
    with pytest.raises(models.ModelChecksumError, match="does not match"):
        models.verify_model("fashion_convnet", folder)


def test_outside_a_clone_a_failed_download_names_the_address(tmp_path, monkeypatch):
    from course import models

    monkeypatch.setattr(models, "repo_root", lambda: None)
    monkeypatch.setattr(models, "models_dir", lambda: tmp_path / "models")
    monkeypatch.setenv(models.DOWNLOAD_ENV, (tmp_path / "nowhere").as_uri())
    with pytest.raises(models.ModelChecksumError, match=r"downloading file://.*/nowhere/data/models/provenance.json "
                                                        r"failed .*copy the file there by hand"):
        models.model_names()
    assert not list((tmp_path / "models").glob("*"))  # nothing half-written is left


def test_the_default_download_address_is_the_release_tag_of_the_repository(monkeypatch):
    from course import models

    monkeypatch.delenv(models.DOWNLOAD_ENV, raising=False)
    assert models.download_base() == (course.REPOSITORY.replace("github.com", "raw.githubusercontent.com") + "/"
                                      + course.RELEASE_TAG)


def test_the_readme_opens_every_student_notebook_of_this_release_in_colab():
    import re

    readme = (ROOT / "README.md").read_text()
    repo = course.REPOSITORY.removeprefix("https://github.com/")
    links = re.findall(r"\[Colab\]\((https://colab\.research\.google\.com/github/[^)]+)\)", readme)
    expected = [f"https://colab.research.google.com/github/{repo}/blob/{course.RELEASE_TAG}/notebooks/{aid}/{aid}.ipynb"
                for aid in LAYOUT.assignment_ids()]
    assert links == expected
    assert pip_source().replace("dl-course @ ", "") in readme.replace('"dl-course @ ', '"')
