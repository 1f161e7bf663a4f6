import subprocess
import sys

import pytest

from course.cli import build_parser
from helpers import ROOT

SUBCOMMANDS = ["data", "release", "clean", "autograde", "check", "export", "similarity", "gradescope"]


@pytest.mark.parametrize("args", [[]] + [[c] for c in SUBCOMMANDS])
def test_help_is_complete(args):
    out = subprocess.run([sys.executable, "-m", "course.cli", *args, "--help"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0 and "usage: course" in out.stdout
    if not args:
        for command in SUBCOMMANDS:
            assert command in out.stdout


def test_data_where_reports_the_verified_folder():
    out = subprocess.run([sys.executable, "-m", "course.cli", "data", "where"], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0 and "SHA-256 verified" in out.stdout


def test_autograde_rejects_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder of submissions"):
        build_parser().parse_args(["autograde", str(tmp_path / "nope")]).func(
            build_parser().parse_args(["autograde", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]))


def test_clean_check_flags_outputs(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", execution_count=1)])
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, str(path))
    out = subprocess.run([sys.executable, "-m", "course.cli", "clean", "--check", str(path)], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 1 and "outputs or an execution count" in out.stdout
