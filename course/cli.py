"""The ``course`` command: data, release, cleaning and autograding.

    $ course data fetch                      # find (or download) and verify Fashion-MNIST
    $ course release                         # regenerate notebooks/ from solutions/
    $ course release --check                 # fail when notebooks/ is out of date
    $ course clean solutions/01_knn/01_knn.ipynb
    $ course autograde SUBMISSIONS --out grading/results --profile quick
    $ course check notebooks/01_knn/01_knn.ipynb          # my notebook's visible tests, per test
    $ course check --hidden notebooks/01_knn/01_knn.ipynb # hidden tests too (needs the whole repo)
    $ course export --to canvas grading/results/grades.csv   # canvas.csv and questions.csv beside it
    $ course similarity SUBMISSIONS --assignment 01_knn   # pairs that share answer code, in an HTML report
    $ course gradescope build 01_knn --out 01_knn-gradescope.zip --profile quick   # a Gradescope autograder

Exit status: 0 on success; 1 when something failed (a test, a submission, a check of --check);
2 for a usage error or a notebook that could not be run.
"""

import argparse
import os
import sys
from pathlib import Path

#: an instructor's per-cell time limit in seconds, for `course autograde` and for nbgrader (nbgrader_config.py)
CELL_TIMEOUT_ENV = "COURSE_CELL_TIMEOUT"


def _cmd_data(args) -> int:
    from course import data

    try:
        folder = data.locate_fashion_mnist(download=args.action == "fetch")
    except data.DataNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Fashion-MNIST: {folder} (4 files, SHA-256 verified)")
    return 0


def _cmd_release(args) -> int:
    from grader.release import release, release_differences

    if args.check:
        problems = release_differences(args.assignments or None)
        for p in problems:
            print(p)
        if problems:
            print("notebooks/ is out of date: run `course release` and commit the result", file=sys.stderr)
            return 1
        print("notebooks/ matches what `course release` generates")
        return 0
    for done in release(args.assignments or None):
        print(f"wrote {done.path}")
    return 0


def _cmd_clean(args) -> int:
    from grader.notebooks import clean_notebook, cleanliness_problems, read_notebook, write_notebook

    status = 0
    for path in map(Path, args.paths):
        if args.check:
            for problem in cleanliness_problems(path):
                print(problem)
                status = 1
        else:
            write_notebook(clean_notebook(read_notebook(path)), path)
            print(f"cleaned {path}")
    return status


def _cmd_autograde(args) -> int:
    from course.config import DEFAULT_PROFILE, check_profile
    from course.paths import course_layout
    from course.protocol import PROFILE_ENV
    from grader.autograde import autograde
    from grader.late import CONFIG_FILE, LateConfigError, load_policy
    from grader.reports import summary_table

    # The command line is the one place that reads the environment; below it, everything is a parameter.
    try:
        profile = check_profile(args.profile or os.environ.get(PROFILE_ENV, DEFAULT_PROFILE))
    except ValueError as exc:
        print(f"course autograde: {exc}", file=sys.stderr)
        return 2
    cell_timeout = args.cell_timeout or (float(os.environ[CELL_TIMEOUT_ENV]) if os.environ.get(CELL_TIMEOUT_ENV)
                                         else None)
    config_path = Path(args.config) if args.config else course_layout().root / CONFIG_FILE
    if args.config and not config_path.is_file():
        print(f"course autograde: --config {args.config}: no such file", file=sys.stderr)
        return 2
    try:
        policy = load_policy(config_path)
    except LateConfigError as exc:
        print(f"course autograde: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    limits = {k: v for k, v in dict(cell_seconds=cell_timeout, notebook_seconds=args.notebook_timeout,
                                     memory_bytes=args.memory_mb and args.memory_mb * 2**20,
                                     processes=args.max_processes).items() if v}
    subs = autograde(Path(args.submissions), out, args.assignment or None, profile=profile,
                     progress=not args.no_progress, workers=args.workers, scheduler=args.scheduler, limits=limits,
                     allow_unsandboxed=args.unsafe_no_sandbox, policy=policy)
    print(summary_table(subs))
    print(f"grades: {out / 'grades.csv'}; per-test results: {out / 'cells.csv'}; feedback: {out / 'feedback'}")
    return 0 if all(s.status == "graded" for s in subs) else 1


def _cmd_export(args) -> int:
    from grader.export import ExportError, read_grades, write_canvas, write_questions

    grades_csv = Path(args.grades)
    out = Path(args.out) if args.out else grades_csv.parent
    try:
        grades = read_grades(grades_csv)
        out.mkdir(parents=True, exist_ok=True)
        warnings = write_canvas(grades, out / "canvas.csv", Path(args.roster) if args.roster else None)
        write_questions(grades, out / "questions.csv")
    except ExportError as exc:
        print(f"course export: {exc}", file=sys.stderr)
        return 2
    for w in warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    print(f"Canvas gradebook import: {out / 'canvas.csv'} ({len(grades.points)} assignment column(s)); "
          f"points per test: {out / 'questions.csv'} ({len(grades.cell_points)} test(s))")
    return 0


def _cmd_check(args) -> int:
    from grader.check import CheckError, check_notebook, format_report

    try:
        report = check_notebook(Path(args.notebook), hidden=args.hidden, profile=args.profile,
                                assignment=args.assignment, timeout=args.timeout,
                                progress=not args.no_progress and sys.stderr.isatty())
    except CheckError as exc:
        print(f"course check: {exc}", file=sys.stderr)
        return 2
    print(format_report(report, color=sys.stdout.isatty() and not os.environ.get("NO_COLOR")))
    return 0 if report.ok else 1


def _cmd_gradescope(args) -> int:
    from grader.gradescope import build_command

    return build_command(args, "course gradescope build")


def _cmd_similarity(args) -> int:
    from grader.similarity import format_pairs, similarity_report

    out = Path(args.out or Path("grading") / "similarity" / f"{args.assignment}.html")
    try:
        report = similarity_report(Path(args.submissions), args.assignment, out, top=args.top)
    except (ValueError, FileNotFoundError) as exc:
        print(f"course similarity: {exc}", file=sys.stderr)
        return 2
    print(format_pairs(report, args.top))
    print(f"report: {report.html}")
    return 1 if report.problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="Tools of the deep-learning course: data, student notebooks, grading.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 1)[1],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("data", help="find, verify or download Fashion-MNIST",
                       description="Looks for Fashion-MNIST in the course cache ($COURSE_DATA or data/), "
                                   "then in Debian's dataset-fashion-mnist, then downloads it (fetch only); "
                                   "verifies SHA-256 checksums.")
    p.add_argument("action", choices=["fetch", "where"],
                   help="fetch: find or download; where: find only, never download")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("release", help="generate the student notebooks from solutions/",
                       description="Runs nbgrader generate_assignment for each assignment and writes "
                                   "clean student notebooks to notebooks/<id>/.")
    p.add_argument("assignments", nargs="*", metavar="ID", help="assignment ids (default: all)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when notebooks/ differs from what release generates")
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("clean", help="strip outputs and machine metadata from notebooks",
                       description="Removes outputs, execution counts and machine-specific metadata, and "
                                   "makes cell ids deterministic. Use it on solutions/ before committing.")
    p.add_argument("paths", nargs="+", metavar="NOTEBOOK")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when a notebook is not clean")
    p.set_defaults(func=_cmd_clean)

    p = sub.add_parser("autograde", help="grade a folder of submissions; write grades CSV and feedback",
                       description="Grades SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb, each in its own "
                                   "bubblewrap sandbox, hidden tests verified outside it; in parallel with --workers "
                                   "or --scheduler; a rerun grades only what changed. Submissions are copied, "
                                   "never modified; a broken "
                                   "one is reported and the others are graded. Exit status 1 when some "
                                   "submission could not be graded. Writes OUT/grades.csv (one row per "
                                   "submission), OUT/cells.csv (every test cell's score and failure message), "
                                   "OUT/feedback/<student>/<assignment>/<notebook>.html and OUT/work/ (nbgrader's "
                                   "folders and gradebook).")
    p.add_argument("submissions", metavar="SUBMISSIONS", help="folder of <student>/<assignment>/ folders")
    p.add_argument("--out", default="grading/results", help="output folder (default: grading/results)")
    p.add_argument("--assignment", action="append", metavar="ID", help="grade only this assignment (repeatable)")
    p.add_argument("--profile", choices=["quick", "full"],
                   help="profile the notebooks run in (default: $COURSE_PROFILE, else full)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="grade N submissions at a time on a Dask LocalCluster (default 1: one after the other)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use an existing Dask cluster (e.g. tcp://host:8786); its workers need this repository")
    p.add_argument("--cell-timeout", type=float, metavar="S",
                   help="seconds per cell (default $COURSE_CELL_TIMEOUT, else 3x the reference run's time, "
                        "at least 120; the summary prints it)")
    p.add_argument("--notebook-timeout", type=float, metavar="S",
                   help="seconds per notebook (default 5x the reference run's time, at least 600)")
    p.add_argument("--memory-mb", type=int, metavar="MB", help="memory of each sandboxed kernel (default 6144)")
    p.add_argument("--max-processes", type=int, metavar="N", help="processes of each sandbox (default 256)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade without bubblewrap if it is missing (student code runs as you: trusted code only)")
    p.add_argument("--config", metavar="TOML",
                   help="the course config with deadlines and the late penalty (default: course.toml in the "
                        "repository; without one nothing is late)")
    p.set_defaults(func=_cmd_autograde)

    p = sub.add_parser("export", help="write grades for an LMS: Canvas's gradebook import, points per test",
                       description="Reads GRADES (the grades.csv of course autograde) and the cells.csv beside it; "
                                   "writes canvas.csv (Canvas's gradebook-import CSV, one column per assignment, "
                                   "scores after the late penalty) and questions.csv (one row per student, one "
                                   "column per test cell, the points earned).")
    p.add_argument("grades", metavar="GRADES", help="grades.csv written by course autograde")
    p.add_argument("--to", choices=["canvas"], default="canvas", help="the format (default: canvas)")
    p.add_argument("--roster", metavar="CSV",
                   help="Canvas's gradebook export: rows, names, IDs and sections come from it, and its "
                        "assignment columns (e.g. '01_knn (4321)') are kept")
    p.add_argument("--out", metavar="DIR", help="folder to write to (default: the folder of GRADES)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("check", help="run a notebook's tests; print pass/fail, points and messages per test",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Runs NOTEBOOK top to bottom in a fresh kernel in its folder (the file "
                                   "itself is not modified), with the grading engine of `course autograde`, "
                                   "and prints, for every graded test, PASS or FAIL, "
                                   "the points and the failure message. Without --hidden the tests in the "
                                   "notebook run (a student copy's hidden tests are listed, not run); with "
                                   "--hidden the test cells come from the instructor's "
                                   "solutions/<id>/<notebook>.ipynb, hidden tests included, as when the "
                                   "instructor autogrades.",
                       epilog="examples:\n"
                              "  course check notebooks/01_knn/01_knn.ipynb\n"
                              "  course check --hidden notebooks/01_knn/01_knn.ipynb\n"
                              "  course check --hidden --assignment 01_knn ~/work/knn-attempt.ipynb\n\n"
                              "exit status: 0 when every test that ran passed; 1 when a test failed; "
                              "2 when the notebook could not be run")
    p.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to check (.ipynb)")
    p.add_argument("--hidden", action="store_true",
                   help="also run the hidden tests, from solutions/ (self-study with the whole repository)")
    p.add_argument("--assignment", metavar="ID",
                   help="assignment id for --hidden (default: the name of the notebook's folder)")
    p.add_argument("--profile", choices=["quick", "full"], default="quick",
                   help="COURSE_PROFILE of the run (default: quick, for feedback in seconds)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="limit per cell in seconds (default: from the reference run, as course autograde)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (none is shown unless stderr is a terminal)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("similarity", help="rank pairs of submissions by the answer code they share; HTML report",
                       description="Compares the answer cells of SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb "
                                   "pair by pair with copydetect, the starter code of the student notebook left "
                                   "out (renaming variables or rewriting comments does not hide a copy); prints the "
                                   "most similar pairs and writes an HTML report with the code they share "
                                   "highlighted. Submissions are read, never modified; a broken one is reported "
                                   "and the others are compared. Exit status 1 when some submission could not be "
                                   "read, 2 for an unknown assignment or no submissions.")
    p.add_argument("submissions", metavar="SUBMISSIONS", help="folder of <student>/<assignment>/ folders")
    p.add_argument("--assignment", required=True, metavar="ID", help="the assignment to compare (e.g. 01_knn)")
    p.add_argument("--out", metavar="HTML", help="the report to write (default: grading/similarity/<ID>.html)")
    p.add_argument("--top", type=int, default=20, metavar="N",
                   help="how many of the most similar pairs to print and show (default 20)")
    p.set_defaults(func=_cmd_similarity)
    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip",
                       description="Gradescope's autograder of an assignment (see README, Gradescope).")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("build", help="write ASSIGNMENT's autograder zip",
                           description="Writes a zip in Gradescope's autograder format: setup.sh (installs Python, "
                                       "bubblewrap, util-linux, Fashion-MNIST and this course), run_autograder "
                                       "(grades /autograder/submission/<notebook>.ipynb with the engine of course "
                                       "autograde and writes /autograder/results/results.json: one test per graded "
                                       "cell, hidden tests visible after grades are published), and the "
                                       "assignment's source notebook, hidden checks and references. No other "
                                       "assignment's checks and no sample submission go in.")
    from grader.gradescope import add_build_arguments  # argparse only: no grading module is loaded

    add_build_arguments(p)
    p.set_defaults(func=_cmd_gradescope)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the grader's own TensorFlow (checks) logs no noise
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
