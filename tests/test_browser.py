"""The student's and the instructor's first minutes, in a real browser.

JupyterLab is started on loopback in a temporary copy of the course (the repository's notebooks are
never modified) and Debian's Chromium, driven by Playwright, does what a person does:

1. opens the 01_knn student notebook and runs its first cells (setup, data, the image grid);
2. types a correct ``compute_distances_two_loops`` into its solution cell and runs its visible test;
3. clicks nbgrader's **Validate** and reads the dialog: the implemented function's test is not
   among the failures, the others fail with "not implemented";
4. fills in the other answers, validates again and reads "Success!";
5. opens Nbgrader → Formgrader and sees the course's assignments.

Screenshots of each step go to ``artifacts/browser/`` (git-ignored). Without Chromium (not root,
no apt) the test skips with a loud message; ``make test`` installs it (tests/system_setup.sh).
``COURSE_CHROMIUM`` points the test at another Chromium binary.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from grader.notebooks import grade_cells, read_notebook, student_answer
from helpers import CHROMIUM, LAYOUT, ROOT, chromium_page, free_port, skip_loudly

ARTIFACTS = ROOT / "artifacts" / "browser"
# A student's own words for Part A: correct, but not the solution's text.
TYPED_TWO_LOOPS = '''def compute_distances_two_loops(X_train, X):
    """L2 distances, two loops (typed in the browser test)."""
    num_test, num_train = X.shape[0], X_train.shape[0]
    dists = np.zeros((num_test, num_train))
    for i in range(num_test):
        for j in range(num_train):
            diff = X[i] - X_train[j]
            dists[i, j] = np.sqrt(np.dot(diff, diff))
    return dists'''
OTHER_ANSWERS = ["compute_distances_one_loop", "compute_distances_no_loops", "compute_distances_l1",
                 "predict_labels", "cross_validate_k"]


def _skip_loudly(reason: str):
    skip_loudly("BROWSER TEST", reason)


def _solution_answer(grade_id: str) -> str:
    cell = grade_cells(read_notebook(LAYOUT.source_notebook("01_knn", "01_knn.ipynb")))[grade_id]
    return student_answer(cell.source).rstrip("\n")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on loopback, in a temporary copy of the course layout; yields its URL."""
    if not CHROMIUM.exists():
        _skip_loudly(f"{CHROMIUM} is not installed (run `bash tests/system_setup.sh` as root, or "
                     "`apt-get install chromium chromium-driver`)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _skip_loudly("the playwright Python package is missing: pip install -e '.[test]'")

    tmp = tmp_path_factory.mktemp("lab")
    course = tmp / "course"
    course.mkdir()
    for name in ["notebooks", "solutions"]:
        shutil.copytree(ROOT / name, course / name)
    shutil.copy(LAYOUT.nbgrader_config, course)
    (course / "grading").mkdir()
    # An exchange, as the README tells an instructor to configure on a JupyterHub.
    (tmp / "exchange").mkdir()
    (tmp / "exchange").chmod(0o777)
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.Exchange.root = {str(tmp / 'exchange')!r}\n")
    config = tmp / "jupyter-config"
    (config / "labconfig").mkdir(parents=True)
    # No "Jupyter news?" toast over the page.
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    settings = tmp / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no virtual scrolling) so that the test can find cells by their text.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))

    port = free_port()
    # As `make lab` does: the environment's bin first on PATH (nbgrader runs `alembic` from PATH
    # when formgrader creates the gradebook).
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "COURSE_PROFILE": "quick", "TF_CPP_MIN_LOG_LEVEL": "2",
           "JUPYTER_CONFIG_DIR": str(config), "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "IPYTHONDIR": str(tmp / "ipython")}
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
           "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={course}",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "jupyterlab.log", "w")
    server = subprocess.Popen(cmd, cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start:\n{(tmp / 'jupyterlab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"url": url, "course": course, "tmp": tmp}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp / "jupyterlab.log", ARTIFACTS / "jupyterlab.log")


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    with sync_playwright() as p:
        context, pg = chromium_page(p, lab["tmp"] / "chromium-profile", height=1000, timeout_ms=60_000)
        try:
            yield pg
        finally:
            context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def cell_with(page, text: str):
    """The notebook cell whose text contains ``text``."""
    return page.locator(".jp-Notebook .jp-Cell").filter(has_text=text).first


def replace_cell_source(page, cell, source: str) -> None:
    """Clicks into a cell's editor, selects everything and types ``source`` in its place."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    # insert_text types the text as one input event: no auto-indent or auto-closed brackets, so the
    # code arrives exactly as written (a person would paste it or fix the indentation by hand).
    page.keyboard.insert_text(source)


def answer_inline_question(page, text: str) -> None:
    """Opens the first unanswered inline question's cell (a markdown cell: double-click), types, renders it."""
    cell = cell_with(page, "YOUR ANSWER HERE")
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-MarkdownOutput").dblclick()
    editor = cell.locator(".cm-content")
    editor.wait_for(state="visible", timeout=60_000)
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Shift+Enter")  # renders it, as a student does


def run_cell(page, cell, tries: int = 3) -> None:
    """Clicks into a cell and presses Shift+Enter, as a student does, until the cell shows it ran.

    Under load a keystroke can reach the page before the editor has focus and is lost: the prompt
    then stays ``[ ]:``. A student would press again; so does this, at most ``tries`` times.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    prompt = cell.locator(".jp-InputArea-prompt").first
    for _ in range(tries):
        cell.scroll_into_view_if_needed()
        cell.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                "(p) => /\\[(\\*|\\d+)\\]/.test(p.textContent)", arg=prompt.element_handle(),
                timeout=60_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"the cell never started after {tries} clicks and Shift+Enter: {cell.inner_text()[:80]!r}")


def wait_kernel_ready(page, timeout_s: float = 300) -> None:
    """Waits until the notebook has its kernel, as a student waits before running a cell.

    The toolbar's execution indicator says idle before a kernel is attached at all (the toolbar then reads
    "No Kernel", for minutes on a loaded machine), and cells run then are lost.
    """
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-KernelName')].some(k => k.textContent.includes('ipykernel'))",
        timeout=timeout_s * 1000)


def wait_output(cell, text: str, timeout_s: float = 240) -> None:
    """Waits until the cell's output shows ``text`` (a cell just run may not show ``[*]`` yet).

    The cell is scrolled into view first: JupyterLab may not render the content of cells off screen.
    """
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-OutputArea").filter(has_text=text).first.wait_for(state="visible", timeout=timeout_s * 1000)


def wait_idle(page, timeout_s: float = 240) -> None:
    """Waits until no cell shows ``[*]`` (running or queued)."""
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.jp-InputArea-prompt')].some(p => p.textContent.includes('*'))",
        timeout=timeout_s * 1000)


def validate(page) -> str:
    """Clicks Validate in the notebook toolbar and returns the text of the result dialog."""
    page.locator(".validate-button").first.click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(state="visible", timeout=600_000)
    return dialog.inner_text()


def close_dialog(page) -> None:
    page.locator(".jp-Dialog .jp-mod-accept").first.click()
    page.locator(".jp-Dialog").wait_for(state="detached")


@pytest.mark.slow
def test_student_runs_cells_types_an_answer_and_validates(page, lab):
    page.goto(f"{lab['url']}/lab/tree/notebooks/01_knn/01_knn.ipynb")
    title = cell_with(page, "Assignment 1 — k-Nearest Neighbors on Fashion-MNIST")
    title.wait_for(state="visible", timeout=120_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120_000)
    wait_kernel_ready(page)
    shot(page, "01_notebook_opened")

    # Run the first cells as a student does: click the setup cell, Shift+Enter through the data cells.
    setup = cell_with(page, "from course import config, data, results, vis")
    run_cell(page, setup)
    for _ in range(4):  # markdown, data split, markdown, the grid of samples per class
        page.keyboard.press("Shift+Enter")
    wait_output(setup, "profile: quick")
    data_cell = cell_with(page, "split = data.fashion_mnist_split(")
    wait_output(data_cell, "T-shirt/top")
    grid = cell_with(page, "vis.show_samples_per_class(").locator(".jp-OutputArea img")
    grid.wait_for(state="visible", timeout=240_000)
    wait_idle(page)
    grid.scroll_into_view_if_needed()
    shot(page, "02_first_cells_run")

    # Part A: type an answer, run it and its visible test.
    answer = cell_with(page, "def compute_distances_two_loops(X_train, X):")
    replace_cell_source(page, answer, TYPED_TWO_LOOPS)
    run_cell(page, answer)
    page.keyboard.press("Shift+Enter")  # the markdown cell "A check you can work out by hand"
    page.keyboard.press("Shift+Enter")  # the visible test
    visible_test = cell_with(page, "compute_distances_two_loops gives the distances worked out by hand")
    wait_output(visible_test, "Visible test passed.")
    wait_idle(page)
    visible_test.scroll_into_view_if_needed()
    shot(page, "03_answer_typed_and_visible_test_passed")

    # Validate with one answer: the other functions' tests fail, Part A's does not.
    text = validate(page)
    shot(page, "04_validate_one_answer")
    assert "Success!" not in text
    assert "not implemented" in text.lower() or "NotImplementedError" in text
    assert "compute_distances_one_loop agrees with the two-loop version" in text
    assert "compute_distances_two_loops gives the distances worked out by hand" not in text
    close_dialog(page)

    # An inline question left open: Validate says so (nbgrader: "You did not provide a response").
    assert "You did not provide a response" in text

    # The remaining answers and both inline questions (markdown cells), then Validate reads success.
    for grade_id in OTHER_ANSWERS:
        replace_cell_source(page, cell_with(page, f"def {grade_id}("), _solution_answer(grade_id))
    for answer in ("*Your answer:* rows far from every training image are unusual test images.",
                   "*Your answer:* 2 and 4: 1-NN has zero training error; prediction compares with every image."):
        answer_inline_question(page, answer)
    text = validate(page)
    shot(page, "05_validate_all_answers")
    assert "Success! Your notebook passes all the tests." in text, text[:2000]
    close_dialog(page)

    # The browser saved the student's work in the temporary copy, never in the repository.
    saved = read_notebook(lab["course"] / "notebooks" / "01_knn" / "01_knn.ipynb")
    assert "typed in the browser test" in grade_cells(saved)["compute_distances_two_loops"].source
    assert "unusual test images" in grade_cells(saved)["inline_question_1"].source
    assert "typed in the browser test" not in (LAYOUT.release_notebook("01_knn", "01_knn.ipynb")).read_text()


@pytest.mark.slow
def test_instructor_opens_formgrader_and_sees_the_assignments(page, lab):
    page.goto(f"{lab['url']}/lab")
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.click()
    frame = page.frame_locator("iframe").first
    try:
        frame.locator("body").filter(has_text="01_knn").wait_for(state="visible", timeout=120_000)
    finally:
        shot(page, "06_formgrader_assignments")
    text = frame.locator("body").inner_text()
    assert "Manage Assignments" in text and "01_knn" in text
    assert "exchange directory" not in text, "the exchange configured as in the README is found"
