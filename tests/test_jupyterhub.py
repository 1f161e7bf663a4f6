"""The README's JupyterHub recipe, run for real on loopback: release, fetch, submit, collect, grade, feedback.

The test starts configurable-http-proxy and a JupyterHub (PAM, ``LocalProcessSpawner``) on 127.0.0.1,
creates two local Unix users (an instructor and a student, random names, homes in a temporary folder)
and an nbgrader exchange in a temporary folder, then runs the README's hub section command by command
(``RECIPE_*`` below; ``test_readme_hub_section_is_the_recipe`` checks that the README has them verbatim):

1. as root: the exchange folder and the nbgrader config every user's server reads (``RECIPE_SETUP``);
2. as the instructor, in a copy of the course in the instructor's home: ``course release 01_knn`` and
   ``nbgrader release_assignment 01_knn`` (``RECIPE_RELEASE``);
3. as the student, in Chromium through the hub: log in, **Nbgrader → Assignment List → Fetch**; the
   student's answer (the correct 01_knn sample) is saved through the hub with the Jupyter contents API
   and a token the student gets from the hub with their password; **Submit**;
4. as the instructor: ``nbgrader collect``, ``course autograde``, the feedback put where nbgrader looks
   for it, ``nbgrader release_feedback`` (``RECIPE_AFTER_DEADLINE``);
5. as the student: **Fetch Feedback**; the page shows "(view feedback)" and is saved to
   ``artifacts/hub/student_assignments.png`` (git-ignored) with the hub's log.

It asserts the grade (21 / 21, from ``autograder/sample_specs/01_knn.py``), who owns the submission in the
exchange and the collected copy, and the feedback page in the student's home where nbgrader puts it,
``~/01_knn/feedback/<timestamp>/01_knn.html``. Users, processes and folders are removed at the end, also
on failure.

The users run the course's own environment (``.venv``). Where its Python is out of their reach (a venv
made from a pyenv under ``/root``, 0700, as on CI), the hub and the instructor's commands run in a private
mount namespace (``unshare``) in which that folder is a 0755 tmpfs holding only the way to the Python:
nothing changes outside. The instructor's commands get ``COURSE_ROOT`` (the copy), because this
environment's ``course`` package is the repository's (an editable install), not the copy's.

Needs root (it creates users), ``jupyterhub`` (``pip install -e '.[test]'``), ``configurable-http-proxy``
(npm), Chromium and bubblewrap (``bash tests/system_setup.sh`` installs them); without one of them the
test skips with a loud message. ``COURSE_CHP`` points the test at another configurable-http-proxy.
"""

import contextlib
import csv
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder import build_samples
from helpers import CHROMIUM, LAYOUT, ROOT, chromium_page, free_port, skip_loudly

ASSIGNMENT = "01_knn"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
COURSE_ID = "dl-course"  # nbgrader_config.py's CourseDirectory.course_id
ARTIFACTS = ROOT / "artifacts" / "hub"
VENV_BIN = Path(sys.executable).parent
CORRECT_ANSWER = LAYOUT.samples_dir(ASSIGNMENT) / "correct" / ASSIGNMENT / NOTEBOOK
# What a clone of the course does not have, or what the instructor regenerates.
NOT_COPIED = (".git", ".venv", ".make", ".course", ".pytest_cache", ".ruff_cache", "__pycache__", "*.egg-info",
              "artifacts", "grading", "notebooks", ".whl", ".gl")

# The README's hub section, verbatim. RECIPE_SETUP runs as root with $EXCHANGE and $JUPYTER_ETC set (the README:
# /srv/nbgrader/exchange and /etc/jupyter; the test: temporary folders, $JUPYTER_ETC on every server's
# JUPYTER_CONFIG_PATH); the other two run as the instructor in the course folder, with the environment active.
RECIPE_SETUP = '''mkdir -p "$EXCHANGE" && chmod ugo+rwx "$EXCHANGE"
mkdir -p "$JUPYTER_ETC" && cat > "$JUPYTER_ETC/nbgrader_config.py" <<EOF
c = get_config()
c.CourseDirectory.course_id = "dl-course"
c.Exchange.root = "$EXCHANGE"
EOF'''
RECIPE_RELEASE = '''course release 01_knn                 # notebooks/01_knn/ from solutions/, and the gradebook entry
nbgrader release_assignment 01_knn    # students can fetch it: Nbgrader -> Assignment List'''
RECIPE_AFTER_DEADLINE = '''nbgrader collect 01_knn               # -> grading/submitted/<student>/01_knn/
course autograde grading/submitted --out grading/results --profile quick
nbgrader release_feedback 01_knn --CourseDirectory.feedback_directory=grading/results/feedback'''
# The lines of jupyterhub_config.py the course needs (the README's; the test puts its own paths in).
HUB_CONFIG_COURSE = '''c.Spawner.cmd = ["{venv_bin}/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"'''
# The rest of the test's hub: loopback, free ports, the proxy started by the test, PAM and local users.
HUB_CONFIG_TEST = '''c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.JupyterHub.db_url = "sqlite:///{hub_dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{hub_dir}/jupyterhub_cookie_secret"
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {users!r}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.environment = {environment!r}
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
'''


def _skip_loudly(reason: str):
    skip_loudly("JUPYTERHUB TEST", reason)


def _proxy_command() -> str | None:
    return os.environ.get("COURSE_CHP") or shutil.which("configurable-http-proxy")


def _require_tools() -> None:
    """Skips loudly unless root, the user tools, jupyterhub, the proxy, Chromium, Playwright and bwrap are here."""

    if os.geteuid() != 0:
        _skip_loudly("needs root: it creates two local users and runs JupyterHub's LocalProcessSpawner")
    missing = [tool for tool in ("useradd", "userdel", "chpasswd", "runuser") if not shutil.which(tool)]
    if missing:
        _skip_loudly(f"{', '.join(missing)} not found (Debian's passwd and util-linux)")
    try:
        import jupyterhub  # noqa: F401
        import pamela  # noqa: F401
    except ImportError:
        _skip_loudly("the jupyterhub Python package is missing: pip install -e '.[test]'")
    if not _proxy_command():
        _skip_loudly("configurable-http-proxy is not installed (run `bash tests/system_setup.sh` as root, or "
                     "`npm install -g configurable-http-proxy`)")
    if not CHROMIUM.exists():
        _skip_loudly(f"{CHROMIUM} is not installed (run `bash tests/system_setup.sh` as root)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _skip_loudly("the playwright Python package is missing: pip install -e '.[test]'")
    if not shutil.which("bwrap"):
        _skip_loudly("bubblewrap is not installed: course autograde refuses to grade without its sandbox "
                     "(run `bash tests/system_setup.sh` as root)")


# ---------------------------------------------------------------------------------------------- users


def _create_user(name: str, home: Path) -> str:
    """Creates a local user with its home at ``home`` and a random password; returns the password."""
    subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", name], check=True)
    password = secrets.token_urlsafe(16)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    return password


def _processes_of(uid: int) -> list[int]:
    """The ids of the running processes whose real user is ``uid``."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid_line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if int(uid_line.split()[1]) == uid:
            pids.append(int(status.parent.name))
    return pids


def _end_processes_of(uid: int) -> None:
    """Ends the processes this test started as a test user (servers, kernels, sandboxes): TERM, then KILL."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        for pid in _processes_of(uid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _processes_of(uid) and time.monotonic() < deadline:
            time.sleep(0.2)


def _remove_user(name: str) -> None:
    """Ends the user's processes and deletes the user, its group and its home."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    _end_processes_of(uid)
    run = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
    if run.returncode not in (0, 12):  # 12: the home could not be removed (the tmp folder goes anyway)
        print(f"userdel {name}: {run.stderr}", file=sys.stderr)


def _run_as(user: str, script: str, cwd: Path, env: dict, log: Path, wrapper: list, timeout: float = 900) -> str:
    """Runs a bash script as ``user`` (``set -euxo pipefail``); returns its output, raises with it on failure."""
    run = subprocess.run([*wrapper, "runuser", "-u", user, "--", "bash", "-euxo", "pipefail", "-c", script], cwd=cwd,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    with open(log, "a") as f:
        f.write(f"$ ({user}) {script}\n{run.stdout}\n[exit {run.returncode}]\n\n")
    print(run.stdout)
    if run.returncode != 0:
        raise AssertionError(f"as {user}, exit {run.returncode}:\n{script}\n{run.stdout[-6000:]}")
    return run.stdout


# ---------------------------------------------------------------------------------------------- the environment


def _untraversable(paths) -> list:
    """``(folder, children)`` for each folder on the way to ``paths`` that other users cannot enter, outermost first.

    A virtual environment made from a Python under ``/root`` (pyenv) is one: ``/root`` is 0700.
    """
    found = {}
    for path in map(Path, paths):
        path = path.resolve()
        for folder in reversed(path.parents):
            if not folder.stat().st_mode & stat.S_IXOTH:
                found.setdefault(folder, set()).add(path.relative_to(folder).parts[0])
    return sorted(found.items(), key=lambda item: len(item[0].parts))


def _private_mounts(blocked: list, stage: Path) -> str:
    """A bash script that, in a private mount namespace, makes each blocked folder a 0755 tmpfs holding only
    the original children on the way (bind mounts): the users reach the environment, and nothing changes
    outside that namespace."""
    q = lambda path: shlex.quote(str(path))
    lines = ["set -e"]
    for n, (folder, children) in enumerate(blocked):
        kept = [(folder / child, stage / f"{n}-{i}", "mkdir -p" if (folder / child).is_dir() else "touch")
                for i, child in enumerate(sorted(children))]
        for original, staged, make in kept:
            lines += [f"{make} {q(staged)}", f"mount --bind {q(original)} {q(staged)}"]
        lines.append(f"mount -t tmpfs -o mode=0755 course-hub-test {q(folder)}")
        for original, staged, make in kept:
            lines += [f"{make} {q(original)}", f"mount --bind {q(staged)} {q(original)}", f"umount {q(staged)}"]
    return "\n".join(lines)


def _wrapper(blocked: list, stage: Path) -> list:
    """The command prefix that runs a command with the environment reachable by every user (nothing when it is)."""
    if not blocked:
        return []
    stage.mkdir(exist_ok=True)
    script = _private_mounts(blocked, stage) + '\nexec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "--", "bash", "-c", script, "course-hub-mounts"]


# ---------------------------------------------------------------------------------------------- processes


def _start(cmd: list, cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    """Starts a process in its own session (so that its group can be ended), output appended to ``log``."""
    with open(log, "a") as f:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Ends a process started by ``_start`` (TERM, then KILL), and whatever else its session left running."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _wait_for(condition, what: str, timeout: float, log: Path | None = None, proc: subprocess.Popen | None = None):
    """Polls ``condition()`` until it returns something truthy; fails with ``what`` (and a log tail) at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            tail = log.read_text()[-4000:] if log and log.exists() else ""
            raise AssertionError(f"{what} (after {timeout:.0f} s):\n{tail}")
        time.sleep(0.5)


def _http(method: str, url: str, token: str | None = None, body=None, timeout: float = 60):
    """One HTTP request; returns ``(status, parsed JSON or text)``, ``(0, error)`` when nothing answered."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return 0, str(exc)
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# ---------------------------------------------------------------------------------------------- the hub


def _copy_course(target: Path) -> None:
    """A copy of the course as an instructor's clone has it (without the generated notebooks)."""
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)


def _hub_config(hub_dir: Path, ports: dict, users: list, environment: dict) -> str:
    course = HUB_CONFIG_COURSE.format(venv_bin=VENV_BIN)
    test = HUB_CONFIG_TEST.format(hub_dir=hub_dir, users=set(users), environment=environment, **ports)
    return f"c = get_config()\n{course}\n{test}"


def _server_ready(url: str, user: str, token: str) -> bool:
    status, info = _http("GET", f"{url}/hub/api/users/{user}", token)
    return status == 200 and bool(info.get("servers", {}).get("", {}).get("ready"))


@pytest.fixture
def hub():
    """Two local users, an exchange, the proxy and a JupyterHub on loopback; yields what the test needs.

    Everything goes at the end, also on failure: the hub, the proxy, the users' processes, the users, the
    folder. The hub's log and the instructor's commands are copied to ``artifacts/hub/``.
    """
    _require_tools()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.iterdir():
        old.unlink()
    tmp = Path(tempfile.mkdtemp(prefix="course-hub-", dir="/tmp"))  # not $TMPDIR: the users must reach it
    tmp.chmod(0o755)  # the users' homes are inside
    (tmp / "home").mkdir(mode=0o755)
    tag = secrets.token_hex(3)
    instructor, student = f"course-instructor-{tag}", f"course-student-{tag}"
    procs, created = [], []
    log, instructor_log = tmp / "jupyterhub.log", tmp / "instructor.log"
    try:
        passwords = {}
        for name in (instructor, student):
            created.append(name)
            passwords[name] = _create_user(name, tmp / "home" / name)
        # The users run the course's environment: where its Python is out of their reach (a pyenv under
        # /root), the hub and the instructor's commands run in a private mount namespace that reaches it.
        blocked = _untraversable([os.path.realpath(sys.executable), sys.base_prefix, VENV_BIN, ROOT])
        if blocked and not shutil.which("unshare"):
            _skip_loudly(f"other users cannot reach the environment ({blocked[0][0]} is closed) and util-linux's "
                         "unshare is missing")
        wrapper = _wrapper(blocked, tmp / "mount-stage")
        check = subprocess.run([*wrapper, "runuser", "-u", student, "--", str(VENV_BIN / "python"), "-c",
                                "import course, jupyterhub, nbgrader"], capture_output=True, text=True)
        if check.returncode != 0:
            _skip_loudly(f"the environment {VENV_BIN.parent} is not usable by other users: {check.stderr[-500:]}")

        # The administrator's one-time set-up, as the README has it.
        exchange, jupyter_etc = tmp / "srv" / "nbgrader" / "exchange", tmp / "etc" / "jupyter"
        subprocess.run(["bash", "-euo", "pipefail", "-c", RECIPE_SETUP], check=True,
                       env={**os.environ, "EXCHANGE": str(exchange), "JUPYTER_ETC": str(jupyter_etc)})
        (jupyter_etc / "labconfig").mkdir()
        # No "Jupyter news?" toast over the page (as tests/test_browser.py).
        (jupyter_etc / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
        for folder in (exchange.parent.parent, exchange.parent, jupyter_etc.parent, jupyter_etc / "labconfig"):
            folder.chmod(0o755)  # whatever this process's umask: every user reads the config
        jupyter_etc.chmod(0o755)
        course = tmp / "home" / instructor / "dl-course"
        _copy_course(course)
        subprocess.run(["chown", "-R", f"{instructor}:{instructor}", str(course)], check=True)

        # The proxy and the hub, started by the test (the hub does not start the proxy).
        hub_dir = tmp / "hub"
        hub_dir.mkdir(mode=0o700)
        ports = {"port": free_port(), "hub_port": free_port(), "api_port": free_port()}
        proxy_token = secrets.token_hex(32)
        path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
        server_env = {"JUPYTER_CONFIG_PATH": str(jupyter_etc), "COURSE_PROFILE": "quick", "TF_CPP_MIN_LOG_LEVEL": "2"}
        (hub_dir / "jupyterhub_config.py").write_text(_hub_config(hub_dir, ports, [instructor, student], server_env))
        procs.append(_start(
            [_proxy_command(), "--ip", "127.0.0.1", "--port", str(ports["port"]), "--api-ip", "127.0.0.1",
             "--api-port", str(ports["api_port"]), "--default-target", f"http://127.0.0.1:{ports['hub_port']}",
             "--error-target", f"http://127.0.0.1:{ports['hub_port']}/hub/error"],
            hub_dir, {**os.environ, "CONFIGPROXY_AUTH_TOKEN": proxy_token}, log))
        procs.append(_start([*wrapper, sys.executable, "-m", "jupyterhub", "-f", str(hub_dir / "jupyterhub_config.py")],
                            hub_dir, {**os.environ, "PATH": path, "CONFIGPROXY_AUTH_TOKEN": proxy_token}, log))
        url = f"http://127.0.0.1:{ports['port']}"
        _wait_for(lambda: _http("GET", f"http://127.0.0.1:{ports['hub_port']}/hub/api/", timeout=10)[0] == 200,
                  "JupyterHub did not start", 180, log, procs[-1])
        _wait_for(lambda: _http("GET", f"{url}/hub/api/", timeout=10)[0] == 200,
                  "JupyterHub did not answer through the proxy", 60, log, procs[-1])

        instructor_env = {"PATH": path, "VIRTUAL_ENV": str(VENV_BIN.parent), "HOME": str(tmp / "home" / instructor),
                          "USER": instructor, "LANG": "C.UTF-8", "COURSE_ROOT": str(course), **server_env}
        yield {"url": url, "tmp": tmp, "log": log, "hub": procs[-1], "course": course, "exchange": exchange,
               "instructor_name": instructor,
               "instructor": lambda script: _run_as(instructor, script, course, instructor_env, instructor_log,
                                                        wrapper),
               "student": student, "student_password": passwords[student],
               "student_home": tmp / "home" / student}
    finally:
        for proc in reversed(procs):  # the hub first: it stops the single-user servers
            _stop(proc)
        for name in created:
            _remove_user(name)
        for kept in (log, instructor_log):
            if kept.exists():
                shutil.copy(kept, ARTIFACTS / kept.name)
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- the student


def _student_token(hub: dict) -> str:
    """A token the student gets from the hub with their user name and password (as a script would)."""
    user = hub["student"]
    status, reply = _http("POST", f"{hub['url']}/hub/api/users/{user}/tokens", body={
        "auth": {"username": user, "password": hub["student_password"]}, "note": "course hub test",
        "expires_in": 3600})
    assert status == 201, f"the hub gave no token to the student ({status}): {reply}"
    return reply["token"]


def _start_server(hub: dict, token: str) -> None:
    """Starts the student's server through the hub's API and waits until the hub says it is ready."""
    status, reply = _http("POST", f"{hub['url']}/hub/api/users/{hub['student']}/server", token)
    assert status in (201, 202), f"the hub did not start the student's server ({status}): {reply}"
    _wait_for(lambda: _server_ready(hub["url"], hub["student"], token),
              "the student's server did not become ready", 300, hub["log"], hub["hub"])


def _save_answer(hub: dict, token: str) -> None:
    """The student's work: the correct 01_knn notebook saved over the fetched one, through the hub."""
    nb = json.loads(CORRECT_ANSWER.read_text())
    url = f"{hub['url']}/user/{hub['student']}/api/contents/{ASSIGNMENT}/{NOTEBOOK}"
    status, reply = _http("PUT", url, token, {"type": "notebook", "format": "json", "content": nb})
    assert status in (200, 201), f"saving the notebook through the hub failed ({status}): {reply}"


def _log_in(page, hub: dict) -> None:
    """Logs the student in on the hub's login page and waits for JupyterLab."""
    page.goto(f"{hub['url']}/hub/login?next=/user/{hub['student']}/lab")
    page.locator("#username_input").fill(hub["student"])
    page.locator("#password_input").fill(hub["student_password"])
    page.locator("#login_submit").click()
    page.wait_for_url(f"**/user/{hub['student']}/lab**", timeout=240_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.wait_for(state="visible", timeout=240_000)


def _assignment_row(page, section: str):
    """The 01_knn row of a section of the Assignment List (released, fetched or submitted)."""
    return page.locator(f"#{section}_assignments_list .list_item").filter(has_text=ASSIGNMENT).first


def _open_assignment_list(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").first.click()
    page.locator("#released_assignments_list").wait_for(state="visible", timeout=120_000)


def _click(row, label: str) -> None:
    row.wait_for(state="visible", timeout=180_000)
    row.locator("button", has_text=label).first.click()


def _grades(course: Path) -> list[dict]:
    with open(course / "grading" / "results" / "grades.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")  # it runs `course autograde`: with the other grading tests (see test_sandbox)
def test_release_fetch_submit_autograde_and_feedback_on_a_real_hub(hub):
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    student, home = hub["student"], hub["student_home"]
    hub["instructor"](RECIPE_RELEASE)
    token = _student_token(hub)
    _start_server(hub, token)

    with sync_playwright() as p:
        context, page = chromium_page(p, hub["tmp"] / "chromium-profile", height=900, timeout_ms=120_000)
        try:
            _log_in(page, hub)
            _open_assignment_list(page)
            _click(_assignment_row(page, "released"), "Fetch")
            _assignment_row(page, "fetched").wait_for(state="visible", timeout=180_000)
            assert (home / ASSIGNMENT / NOTEBOOK).is_file(), "Fetch put no notebook in the student's home"
            assert (home / ASSIGNMENT / NOTEBOOK).stat().st_uid == pwd.getpwnam(student).pw_uid

            _save_answer(hub, token)
            _click(_assignment_row(page, "fetched"), "Submit")
            _assignment_row(page, "submitted").wait_for(state="visible", timeout=180_000)

            hub["instructor"](RECIPE_AFTER_DEADLINE)

            # Refresh the list, and wait until it says the feedback is there (the refresh has come back).
            page.locator("#refresh_assignments_list").click()
            _assignment_row(page, "submitted").filter(has_text="feedback available to fetch").wait_for(
                state="visible", timeout=180_000)
            _click(_assignment_row(page, "submitted"), "Fetch Feedback")
            _assignment_row(page, "submitted").filter(has_text="view feedback").wait_for(
                state="visible", timeout=180_000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "student_assignments.png"))
            context.close()

    # Real users, real permissions: the student's submission in the exchange is the student's, what the
    # instructor collected is the instructor's.
    inbound = list((hub["exchange"] / COURSE_ID / "inbound").glob(f"{student}+{ASSIGNMENT}+*"))
    assert len(inbound) == 1 and inbound[0].stat().st_uid == pwd.getpwnam(student).pw_uid, inbound
    collected = hub["course"] / "grading" / "submitted" / student / ASSIGNMENT / NOTEBOOK
    assert collected.stat().st_uid == pwd.getpwnam(hub["instructor_name"]).pw_uid

    expected = build_samples.load_spec(ASSIGNMENT)["correct"]["score"]
    rows = [r for r in _grades(hub["course"]) if r["student"] == student and r["assignment"] == ASSIGNMENT]
    assert len(rows) == 1 and rows[0]["status"] == "graded", rows
    assert (float(rows[0]["score"]), float(rows[0]["max_score"])) == (expected, expected), rows[0]

    timestamp = (hub["course"] / "grading" / "submitted" / student / ASSIGNMENT / "timestamp.txt").read_text().strip()
    feedback = home / ASSIGNMENT / "feedback" / timestamp / f"{ASSIGNMENT}.html"
    assert feedback.is_file(), f"no feedback at {feedback}: {sorted(map(str, (home / ASSIGNMENT).rglob('*')))}"
    text = feedback.read_text()
    assert f"Score: {expected:g} / {expected:g}" in text and student in text
    released = hub["course"] / "grading" / "results" / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert text == released.read_text(), "the student fetched another page than course autograde wrote"
    print(f"hub round trip: {time.monotonic() - started:.0f} s")


def _readme_hub_section(readme: Path = ROOT / "README.md") -> str:
    text = readme.read_text()
    start = text.index("### On a JupyterHub with nbgrader's exchange")
    end = text.find("\n### ", start + 1)
    return text[start:end if end > 0 else None]


def _lines(text: str) -> str:
    """The text with each line stripped (a code block may be indented in a list)."""
    return "\n".join(line.strip() for line in text.splitlines())


def recipe_problems(readme: Path = ROOT / "README.md") -> list[str]:
    """The blocks of this test that the README's hub section does not show verbatim."""
    section = _lines(_readme_hub_section(readme))
    blocks = {"RECIPE_SETUP": RECIPE_SETUP, "RECIPE_RELEASE": RECIPE_RELEASE,
              "RECIPE_AFTER_DEADLINE": RECIPE_AFTER_DEADLINE,
              "HUB_CONFIG_COURSE": HUB_CONFIG_COURSE.format(venv_bin="/srv/dl-course/.venv/bin")}
    return [f"{name}:\n{block}" for name, block in blocks.items() if _lines(block) not in section]


def test_readme_hub_section_is_the_recipe():
    """The README's hub section shows the very commands and config lines this test runs, in this order."""
    problems = recipe_problems()
    assert not problems, "README.md's hub section lacks these blocks of this test:\n" + "\n".join(problems)
    section = _lines(_readme_hub_section())
    positions = [section.index(_lines(block)) for block in (RECIPE_SETUP, RECIPE_RELEASE, RECIPE_AFTER_DEADLINE)]
    assert positions == sorted(positions), "the README's hub section has the steps in another order"
