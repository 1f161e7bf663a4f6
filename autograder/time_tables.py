"""The times a student reads: generated from the reference runs, never written by hand.

    $ python -m autograder.time_tables            # rewrite the tables in solutions/ and README.md
    $ python -m autograder.time_tables --check    # exit 1 where a table differs from the references

Each solution notebook's first cell and the README hold a table between ``<!-- times -->`` and
``<!-- /times -->`` markers. Its numbers are the ``run_seconds`` of the reference runs
(``autograder/references/<id>.json``, written by ``autograder.build_references``), only of runs that
had the machine to themselves (``quiet``): a loaded run's time says more about the other jobs than
about the notebook, and is shown as "not measured". A GPU run (``profiles.<profile>.gpu``) fills the
GPU column. After ``python -m autograder.time_tables``, ``course release`` carries the tables into the
student copies.
"""

import argparse
import json
import re
import sys

from course.paths import Layout, course_layout
from grader.notebooks import read_notebook, write_notebook

BEGIN, END = "<!-- times -->", "<!-- /times -->"
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
UNMEASURED = "not measured"


def humanize(seconds: float) -> str:
    """A duration as a student reads it: ``about 7 s``, ``about 20 s``, ``about 3.5 min``.

    To the second below 20 s, to 5 s below 90 s (within 2.5 s), then to the half minute below 10 minutes
    and to the minute above (within 10 %).
    """
    if seconds < 20:
        return f"about {max(1, round(seconds))} s"
    if seconds < 90:
        return f"about {max(5, 5 * round(seconds / 5))} s"
    minutes = seconds / 60
    return f"about {round(minutes * 2) / 2:g} min" if minutes < 10 else f"about {round(minutes):d} min"


def shown_seconds(entry: dict | None) -> float | None:
    """The CPU time to show for a profile's reference entry: ``run_seconds`` of a quiet run, else None."""
    prov = (entry or {}).get("provenance", {})
    if not prov.get("quiet") or "run_seconds" not in prov:
        return None
    return float(prov["run_seconds"])


def gpu_seconds(entry: dict | None) -> float | None:
    """The GPU time of a profile's reference entry, where a GPU run is recorded."""
    gpu = (entry or {}).get("gpu") or {}
    seconds = gpu.get("provenance", {}).get("run_seconds")
    return None if seconds is None else float(seconds)


def _cell(seconds: float | None) -> str:
    return UNMEASURED if seconds is None else humanize(seconds)


def load_references(layout: Layout, assignment: str) -> dict:
    path = layout.references_file(assignment)
    return json.loads(path.read_text()).get("profiles", {}) if path.is_file() else {}


def notebook_table(layout: Layout, assignment: str) -> str:
    """The markdown block (markers included) for the top of ``assignment``'s notebook."""
    profiles = load_references(layout, assignment)
    rows = [f"{BEGIN}",
            "| Profile | 2-core CPU | GPU |",
            "|---|---|---|"]
    for name, label in (("quick", "`quick`"), ("full", "`full` (default)")):
        entry = profiles.get(name)
        rows.append(f"| {label} | {_cell(shown_seconds(entry))} | {_cell(gpu_seconds(entry))} |")
    rows.append(f"\n*Generated from the reference runs (`autograder/references/{assignment}.json`: the whole "
                "notebook, on a quiet machine) by `python -m autograder.time_tables`.*")
    rows.append(END)
    return "\n".join(rows)


def readme_table(layout: Layout) -> str:
    """The markdown block (markers included) for the README: every assignment, both profiles."""
    rows = [BEGIN,
            "| Notebook | quick, 2-core CPU | full, 2-core CPU | full, GPU |",
            "|---|---|---|---|"]
    for aid in layout.assignment_ids():
        profiles = load_references(layout, aid)
        rows.append(f"| {aid} | {_cell(shown_seconds(profiles.get('quick')))} | "
                    f"{_cell(shown_seconds(profiles.get('full')))} | {_cell(gpu_seconds(profiles.get('full')))} |")
    rows.append(END)
    return "\n".join(rows)


def replace_block(text: str, block: str, where: str) -> str:
    """``text`` with its one times block replaced by ``block``.

    Raises:
        ValueError: when ``text`` has no times block, or more than one.
    """
    found = _BLOCK.findall(text)
    if len(found) != 1:
        raise ValueError(f"{where}: expected one {BEGIN} ... {END} block, found {len(found)}")
    return _BLOCK.sub(lambda _: block, text)


def outside_block(text: str) -> str:
    """``text`` without its times block (where a hand-written time must not hide)."""
    return _BLOCK.sub("", text)


def update(layout: Layout, check: bool) -> list[str]:
    """Rewrites (or, with ``check``, compares) every table; returns the files that differ."""
    stale = []
    for aid in layout.assignment_ids():
        path = layout.source_notebook(aid, f"{aid}.ipynb")
        nb = read_notebook(path)
        first = nb.cells[0]
        new = replace_block(first.source, notebook_table(layout, aid), str(path))
        if new != first.source:
            stale.append(str(path.relative_to(layout.root)))
            if not check:
                first.source = new
                write_notebook(nb, path)
    readme = layout.root / "README.md"
    text = readme.read_text()
    new = replace_block(text, readme_table(layout), "README.md")
    if new != text:
        stale.append("README.md")
        if not check:
            readme.write_text(new)
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report tables that differ from the references")
    args = parser.parse_args(argv)
    stale = update(course_layout(), check=args.check)
    for name in stale:
        print(f"{'stale' if args.check else 'updated'}: {name}")
    if args.check and stale:
        print("run: python -m autograder.time_tables  (then course release)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
