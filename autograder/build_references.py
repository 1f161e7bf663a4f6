"""Builds the reference results: runs each solution notebook and records what it reports.

    $ python -m autograder.build_references --profile quick            # all assignments
    $ python -m autograder.build_references --profile full 01_knn

Each solution notebook records its results with ``course.results.record``. They are written to
``autograder/references/<id>.json`` under ``profiles.<profile>``, with their provenance: profile,
seed policy, data, library versions, device, date, git commit, and how long the run took: its wall
time (``run_seconds``), the CPU seconds of its kernel, and the machine's load average before and after.
A run on a loaded machine (a load average above the core count that the run itself does not explain,
``other_load``) is marked ``quiet: false``: its time is
not shown to students (``autograder.time_tables``) and the tests reject it for a full profile. Before
each run the builder waits (``--wait-quiet``) for the load of the previous one to fade. Other
profiles' entries in the file are kept.

Where a GPU is lent, ``--device gpu`` (``make references PROFILE=full DEVICE=gpu``) runs the same
notebooks on the GPU that TensorFlow sees and records each run beside the CPU one, as
``profiles.<profile>.gpu`` (results and provenance, the GPU's name among it): the time tables show its
time in their GPU column, and the CPU run stays the reference the hidden checks grade against. Without
a GPU it refuses and runs nothing.
"""

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.provenance import device, git_commit, versions
from course.paths import course_layout
from course.protocol import RETRAIN_ENV
from grader.execute import execute_notebook
from grader.merge import hidden_calls, is_hidden_test

LAYOUT = course_layout()


CORES = os.cpu_count() or 1


def failed_cells(nb) -> list[str]:
    """The sources of the code cells of an executed notebook that raised."""
    return [cell.source for cell in nb.cells if cell.cell_type == "code"
            and any(out.get("output_type") == "error" for out in cell.get("outputs", []))]


def recheck(assignment: str, profile: str, names: list[str]) -> None:
    """Runs, against the new references, the hidden checks that failed against the old ones.

    A check that compares with reference results (08's experiment) fails in the run that changes
    them; once they are written, the solution must pass it.

    Raises:
        CheckFailure: when the solution still fails one.
    """
    from autograder.solutions import solution_namespace
    from course.config import using_profile
    from grader.verify import run_local_check

    namespace, _ = solution_namespace(assignment)
    with using_profile(profile):
        for name in names:
            run_local_check(assignment, name, namespace[name])
            print(f"  {name}: the hidden check passes against the new references")


def load_average() -> float:
    """The machine's load average over the last minute."""
    return round(os.getloadavg()[0], 2)


def other_load(load_before: float, load_after: float, cpu_seconds: float, run_seconds: float) -> float:
    """The load average that a run does not explain: other jobs' share of the machine.

    The load after a run includes the run itself, which kept ``cpu_seconds / run_seconds`` cores busy
    on average; what is left, or the load before it started if higher, came from elsewhere.
    """
    own = cpu_seconds / run_seconds if run_seconds > 0 else 0.0
    return round(max(load_before, load_after - own, 0.0), 2)


def is_quiet(load_before: float, load_after: float, cpu_seconds: float, run_seconds: float,
             cores: int = CORES) -> bool:
    """Whether a run had the machine to itself: the other jobs' load at most the core count."""
    return other_load(load_before, load_after, cpu_seconds, run_seconds) <= cores


def wait_until_quiet(limit_seconds: float, below: float = CORES / 2) -> float:
    """Waits (at most ``limit_seconds``) until the load average is under ``below``; returns the load."""
    deadline = time.monotonic() + limit_seconds
    load = load_average()
    while load >= below and time.monotonic() < deadline:
        print(f"  waiting for a quiet machine: load average {load:.2f} (want < {below:g})", flush=True)
        time.sleep(15)
        load = load_average()
    return load


def qualify(prov: dict) -> dict:
    """Sets ``other_load`` and ``quiet`` of a run's provenance from its measured loads and seconds."""
    args = (prov["load_average"]["before"], prov["load_average"]["after"], prov["cpu_seconds"], prov["run_seconds"])
    prov["other_load"], prov["quiet"] = other_load(*args), is_quiet(*args, prov["cores"])
    return prov


def tensorflow_gpus() -> list[str]:
    """The GPUs that TensorFlow sees in a fresh interpreter (the notebooks' kernels import it the same way)."""
    probe = ("import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import tensorflow as tf; "
             "print('\\n'.join(d.name for d in tf.config.list_physical_devices('GPU')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    return [line for line in done.stdout.splitlines() if line.strip()]


def store(existing: dict, profile: str, entry: dict, on_gpu: bool) -> None:
    """Puts a run into the references: the CPU run as ``profiles.<profile>``, a GPU run beside it as
    ``profiles.<profile>.gpu`` (its results and provenance only: the CPU run stays the graded reference)."""
    if not on_gpu:
        kept = existing["profiles"].get(profile, {}).get("gpu")
        existing["profiles"][profile] = dict(entry, **({"gpu": kept} if kept else {}))
        return
    if profile not in existing["profiles"]:
        raise RuntimeError(f"{existing['assignment']} [{profile}]: build the CPU reference first (the graded one), "
                           f"then the GPU run beside it")
    existing["profiles"][profile]["gpu"] = entry


def read_references(assignment: str) -> dict:
    """``autograder/references/<id>.json``, or an empty one."""
    path = LAYOUT.references_file(assignment)
    return json.loads(path.read_text()) if path.is_file() else {"assignment": assignment, "profiles": {}}


def write_references(assignment: str, references: dict) -> None:
    path = LAYOUT.references_file(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(references, indent=1, sort_keys=True) + "\n")


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(assignment: str, profile: str) -> dict:
    """Executes ``solutions/<id>/<id>.ipynb`` in ``profile`` and returns the entry to record.

    The notebook trains even where it finds a saved model (``COURSE_RETRAIN=1``), and the kernel's
    CPU seconds (it is this process's child) and the load average around the run are recorded.
    """
    notebook = LAYOUT.source_notebook(assignment, f"{assignment}.ipynb")
    load_before, cpu_before = load_average(), _children_cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        results_file = Path(tmp) / "results.json"
        executed, seconds = execute_notebook(notebook, profile=profile, results_file=results_file,
                                             extra_env={RETRAIN_ENV: "1"}, quiet_kernel=True, allow_errors=True)
        results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    cpu_seconds, load_after = _children_cpu_seconds() - cpu_before, load_average()
    failed = failed_cells(executed)
    broken = [source for source in failed if not is_hidden_test(source)]
    if broken:
        raise RuntimeError(f"{assignment} [{profile}]: {len(broken)} cell(s) of the solution failed; the first:\n"
                           f"{broken[0][:400]}")
    return {
        "recheck": sorted({name for source in failed for _, name in hidden_calls(source)}),
        "results": results,
        "provenance": qualify({
            "notebook": str(notebook.relative_to(LAYOUT.root)),
            "profile": profile,
            "seeds": "fixed in the notebook's setup cell (SEED = 0)",
            "data": "Fashion-MNIST, class-balanced subsets from course.data.fashion_mnist_split(seed=0)",
            "libraries": versions(),
            "device": device(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": git_commit(LAYOUT.root),
            "run_seconds": round(seconds, 1),
            "cpu_seconds": round(cpu_seconds, 1),
            "cores": CORES,
            "load_average": {"before": load_before, "after": load_after},
            "command": f"python -m autograder.build_references --profile {profile} {assignment}",
        }),
    }


def requalify(ids: list[str]) -> None:
    """Recomputes ``other_load`` and ``quiet`` of every recorded run from its recorded loads and seconds.

    For runs recorded before the rule changed; nothing is run again, and no measured number changes.
    """
    for aid in ids:
        existing = read_references(aid)
        for name, entry in existing["profiles"].items():
            prov = entry["provenance"]
            if "load_average" not in prov or "cpu_seconds" not in prov:
                continue
            qualify(prov)
            print(f"{aid} [{name}]: other load {prov['other_load']}, quiet {prov['quiet']}")
        if existing["profiles"]:
            write_references(aid, existing)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: every solution notebook)")
    parser.add_argument("--profile", choices=["quick", "full"])
    parser.add_argument("--wait-quiet", type=float, default=300, metavar="SECONDS",
                        help="before each run, wait up to this long for the load average to fall under half "
                             "the core count (default 300; 0: do not wait)")
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu",
                        help="gpu: run on the GPU that TensorFlow sees (refused without one) and record the run "
                             "beside the CPU reference, as profiles.<profile>.gpu (default: cpu)")
    parser.add_argument("--requalify", action="store_true",
                        help="run nothing: recompute other_load and quiet of the recorded runs from their loads")
    args = parser.parse_args(argv)
    ids = args.assignments or LAYOUT.assignment_ids()
    if args.requalify:
        requalify(ids)
        return 0
    if args.profile is None:
        parser.error("--profile is required (quick or full)")
    on_gpu = args.device == "gpu"
    if on_gpu:
        gpus = tensorflow_gpus()
        if not gpus:
            parser.error("--device gpu: TensorFlow sees no GPU here (install it with its CUDA libraries: "
                         "pip install -e '.[gpu]', see the README's GPU section); nothing was run")
        print(f"GPU run on {', '.join(gpus)} ({device()})")
    for aid in ids:
        if args.wait_quiet > 0:
            wait_until_quiet(args.wait_quiet)
        existing = read_references(aid)
        entry = build(aid, args.profile)
        names = entry.pop("recheck")
        store(existing, args.profile, entry, on_gpu)
        write_references(aid, existing)
        if on_gpu:
            prov = entry["provenance"]
            print(f"{aid} [{args.profile}, GPU]: {prov['run_seconds']} s on {prov['device']}")
            continue
        if names:
            print(f"  {aid}: {', '.join(names)} failed against the old references; checking against the new")
            recheck(aid, args.profile, names)
        prov = entry["provenance"]
        print(f"{aid} [{args.profile}]: {prov['run_seconds']} s, {prov['cpu_seconds']} CPU s, load "
              f"{prov['load_average']['before']} -> {prov['load_average']['after']} (others: {prov['other_load']})"
              f"{'' if prov['quiet'] else ' (LOADED: this time will not be shown to students)'}")
        print(f"  {entry['results']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
