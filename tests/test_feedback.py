"""The HTML feedback a student gets back teaches as the notebook does, and reveals no hidden check.

The "visible_only" 01_knn sample passes every visible test and fails two hidden ones; its feedback
must carry those failures' teaching messages (what was compared, the error, the target, a hint) and
none of the hidden check's code or reference (autograder/checks/01_knn.py).
"""

import html
import re
import shutil

import pytest

from grader.autograde import autograde
from helpers import LAYOUT

# Grading tests check that no sandbox process outlives a run: they share one pytest-xdist
# worker (make test runs --dist loadgroup), so no other grading runs beside them.
pytestmark = pytest.mark.xdist_group("sandbox")

SAMPLE = LAYOUT.samples_dir("01_knn") / "visible_only"


def _text(path) -> str:
    """The visible text of an HTML page (tags dropped, entities decoded)."""
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.mark.slow
def test_feedback_of_a_partly_wrong_submission_teaches_and_hides_the_checks(tmp_path):
    submissions = tmp_path / "submitted"
    shutil.copytree(SAMPLE, submissions / "visible_only")
    subs = autograde(submissions, tmp_path / "out", ["01_knn"], profile="quick", progress=False)
    assert [(s.status, s.score, s.max_score) for s in subs] == [("graded", 13.0, 21.0)]

    page = tmp_path / "out" / "feedback" / "visible_only" / "01_knn" / "01_knn.html"
    text = _text(page)
    # The failed hidden tests, with their teaching messages.
    assert "compute_distances_no_loops contains a loop or comprehension" in text
    assert "Hint: expand ||x - x'||^2 = ||x||^2 - 2 x.x' + ||x'||^2 and use one matrix product" in text
    assert "compared with an independent cross-validation (np.array_split folds, in order), relative error" in text
    assert "(target < 1e-12)" in text
    assert "Hint: fold i is the validation set" in text
    # The score the student sees.
    assert re.search(r"Score:\s*13(\.0)?\s*/\s*21", text), "the page shows the total score"
    assert "a visible test counts only for a function the grader confirms" in text
    # Nothing of the hidden checks' code or reference implementation.
    raw = page.read_text(encoding="utf-8")
    for secret in ["cdist(", "reference_cross_validation", "reference_predict", "_cv_cases", "default_rng(11)",
                   "autograder/checks"]:
        assert secret not in raw, f"the feedback reveals {secret!r}"
