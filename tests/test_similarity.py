"""`course similarity`: two near-copies among honest submissions of 01_knn rank first, starter code excluded.

The honest students below wrote their answers independently (different structure, names and idioms);
eve copied ben's answers, renamed the variables, rewrote the comments and reordered a few lines.
"""

import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from grader.notebooks import read_notebook, write_notebook
from grader.similarity import (
    NOISE_THRESHOLD,
    assignment_cells,
    build_document,
    cell_sources,
    own_code,
    rank_pairs,
    similarity_report,
    starter_from_source,
)
from helpers import LAYOUT, ROOT

AID = "01_knn"

#: student -> grade_id -> what they wrote in place of the stub ("# YOUR CODE HERE / raise NotImplementedError()")
ANSWERS = {
    "ana": {
        "compute_distances_two_loops": "dists[i, j] = np.sqrt(np.sum((X[i] - X_train[j]) ** 2))",
        "compute_distances_one_loop": "dists[i, :] = np.sqrt(np.sum((X_train - X[i]) ** 2, axis=1))",
        "compute_distances_no_loops": """
            test_sq = np.sum(X ** 2, axis=1, keepdims=True)
            train_sq = np.sum(X_train ** 2, axis=1)
            cross = X @ X_train.T
            dists = np.sqrt(np.maximum(test_sq - 2 * cross + train_sq, 0))""",
        "compute_distances_l1": "dists = np.abs(X[:, None, :] - X_train[None, :, :]).sum(axis=2)",
        "predict_labels": """
            for i in range(num_test):
                closest_y = y_train[np.argsort(dists[i], kind="stable")[:k]]
                y_pred[i] = np.argmax(np.bincount(closest_y))""",
        "cross_validate_k": """
            for k in k_choices:
                for fold in range(num_folds):
                    X_tr = np.concatenate(X_folds[:fold] + X_folds[fold + 1:])
                    y_tr = np.concatenate(y_folds[:fold] + y_folds[fold + 1:])
                    d = compute_distances_no_loops(X_tr, X_folds[fold])
                    pred = predict_labels(d, y_tr, k=k)
                    k_to_accuracies[k].append(float(np.mean(pred == y_folds[fold])))""",
    },
    "ben": {
        "compute_distances_two_loops": """
            diff = X[i] - X_train[j]
            dists[i, j] = np.sqrt(diff.dot(diff))""",
        "compute_distances_one_loop": "dists[i] = np.linalg.norm(X_train - X[i], axis=1)",
        "compute_distances_no_loops": """
            squared_test = (X ** 2).sum(1)
            squared_train = (X_train ** 2).sum(1)
            inner = X.dot(X_train.T)
            squared = squared_test[:, np.newaxis] + squared_train[np.newaxis, :] - 2.0 * inner
            squared[squared < 0] = 0.0  # round-off
            dists = np.sqrt(squared)""",
        "compute_distances_l1": "dists = np.stack([np.abs(X_train - row).sum(axis=1) for row in X])",
        "predict_labels": """
            from collections import Counter

            for i, row in enumerate(dists):
                neighbours = y_train[np.argsort(row, kind="stable")[:k]]
                votes = Counter(neighbours.tolist())
                most = max(votes.values())
                y_pred[i] = min(label for label, count in votes.items() if count == most)""",
        "cross_validate_k": """
            for held_out in range(num_folds):
                train_X = np.vstack([f for n, f in enumerate(X_folds) if n != held_out])
                train_y = np.hstack([f for n, f in enumerate(y_folds) if n != held_out])
                distances = compute_distances_no_loops(train_X, X_folds[held_out])
                for k in k_choices:
                    guess = predict_labels(distances, train_y, k)
                    k_to_accuracies[k].append(np.mean(guess == y_folds[held_out]))""",
    },
    "chloe": {
        "compute_distances_two_loops": """
            total = 0.0
            for a, b in zip(X[i], X_train[j]):
                total += (a - b) ** 2
            dists[i, j] = total ** 0.5""",
        "compute_distances_one_loop": """
            delta = X_train - X[i]
            dists[i] = np.sqrt(np.einsum("ij,ij->i", delta, delta))""",
        "compute_distances_no_loops": """
            dists = np.sqrt(np.clip(np.sum(X * X, axis=1).reshape(-1, 1) - 2 * np.matmul(X, X_train.T)
                                    + np.sum(X_train * X_train, axis=1).reshape(1, -1), 0, None))""",
        "compute_distances_l1": """
            dists = np.zeros((X.shape[0], X_train.shape[0]))
            for j in range(X_train.shape[0]):
                dists[:, j] = np.sum(np.abs(X - X_train[j]), axis=1)""",
        "predict_labels": """
            nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
            labels = y_train[nearest]
            counts = np.zeros((num_test, int(y_train.max()) + 1), dtype=np.int64)
            np.add.at(counts, (np.arange(num_test)[:, None], labels), 1)
            y_pred = counts.argmax(axis=1)""",
        "cross_validate_k": """
            indices = list(range(num_folds))
            for v in indices:
                rest = [f for f in indices if f != v]
                Xtr = np.concatenate([X_folds[f] for f in rest], axis=0)
                ytr = np.concatenate([y_folds[f] for f in rest], axis=0)
                D = compute_distances_no_loops(Xtr, X_folds[v])
                for k in k_choices:
                    acc = np.sum(predict_labels(D, ytr, k=k) == y_folds[v]) / len(y_folds[v])
                    k_to_accuracies[k].append(acc)""",
    },
    "dmitri": {
        # the textbook line, as ana wrote it too: honest students share such idioms
        "compute_distances_two_loops": "dists[i, j] = np.sqrt(np.sum((X[i] - X_train[j]) ** 2))",
        "compute_distances_one_loop": "dists[i, :] = ((X[i] - X_train) ** 2).sum(-1) ** 0.5",
        "compute_distances_no_loops": """
            gram = X @ X_train.T
            norms_x = np.einsum("ij,ij->i", X, X)
            norms_t = np.einsum("ij,ij->i", X_train, X_train)
            dists = np.sqrt(np.maximum(norms_x[:, None] - 2.0 * gram + norms_t[None, :], 0.0))""",
        "compute_distances_l1": "dists = np.array([[np.abs(x - t).sum() for t in X_train] for x in X])",
        "predict_labels": """
            for i in range(num_test):
                ks = np.argsort(dists[i], kind="mergesort")[:k]
                lab, cnt = np.unique(y_train[ks], return_counts=True)
                y_pred[i] = lab[np.argmax(cnt)]""",
        "cross_validate_k": """
            for fold_index in range(num_folds):
                val_X, val_y = X_folds[fold_index], y_folds[fold_index]
                fit_X = np.concatenate([X_folds[j] for j in range(num_folds) if j != fold_index])
                fit_y = np.concatenate([y_folds[j] for j in range(num_folds) if j != fold_index])
                dist_matrix = compute_distances_no_loops(fit_X, val_X)
                for kk in k_choices:
                    predicted = predict_labels(dist_matrix, fit_y, k=kk)
                    k_to_accuracies[kk].append((predicted == val_y).mean())""",
    },
    # ben's answers, variables renamed, comments rewritten, a few lines reordered
    "eve": {
        "compute_distances_two_loops": """
            # difference vector, then its length
            d = X[i] - X_train[j]
            dists[i, j] = np.sqrt(d.dot(d))""",
        "compute_distances_one_loop": "dists[i] = np.linalg.norm(X_train - X[i], axis=1)  # L2 norm of every row",
        "compute_distances_no_loops": """
            # ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b
            tr_sq = (X_train ** 2).sum(1)
            te_sq = (X ** 2).sum(1)
            dot = X.dot(X_train.T)
            sq = te_sq[:, np.newaxis] + tr_sq[np.newaxis, :] - 2.0 * dot
            sq[sq < 0] = 0.0  # no negative values
            dists = np.sqrt(sq)""",
        "compute_distances_l1": "dists = np.stack([np.abs(X_train - x).sum(axis=1) for x in X])",
        "predict_labels": """
            from collections import Counter

            for n, d in enumerate(dists):
                near = y_train[np.argsort(d, kind="stable")[:k]]
                c = Counter(near.tolist())
                top = max(c.values())
                y_pred[n] = min(lab for lab, cnt in c.items() if cnt == top)  # smallest label wins a tie""",
        "cross_validate_k": """
            for v in range(num_folds):
                tx = np.vstack([f for m, f in enumerate(X_folds) if m != v])
                ty = np.hstack([f for m, f in enumerate(y_folds) if m != v])
                dd = compute_distances_no_loops(tx, X_folds[v])
                for k in k_choices:
                    p = predict_labels(dd, ty, k)
                    k_to_accuracies[k].append(np.mean(p == y_folds[v]))""",
    },
    # submitted the student notebook as it was released
    "gus": {},
    "hana": {},
}
HONEST = ["ana", "ben", "chloe", "dmitri"]
STUB = re.compile(r"^([ \t]*)# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)\n", re.MULTILINE)


def _fill(starter: str, answer: str) -> str:
    """The starter code of an answer cell with the stub replaced by ``answer``, at the stub's indentation."""
    return STUB.sub(lambda m: textwrap.indent(textwrap.dedent(answer).strip("\n") + "\n", m[1]), starter, count=1)


def _submit(folder, answers: dict, delete: str = "") -> None:
    """Writes a submission: the student notebook with ``answers`` filled in and the cell ``delete`` deleted."""
    nb = read_notebook(LAYOUT.release_notebook(AID, f"{AID}.ipynb"))
    nb.cells = [c for c in nb.cells if not delete or c.metadata.get("nbgrader", {}).get("grade_id") != delete]
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = _fill(cell.source, answers[gid])
    write_notebook(nb, folder / AID / f"{AID}.ipynb")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity")
    for student, answers in ANSWERS.items():
        _submit(root / "submissions" / student, answers, delete="cross_validate_k" if student == "hana" else "")
    broken = root / "submissions" / "frank" / AID / f"{AID}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [', encoding="utf-8")
    return similarity_report(root / "submissions", AID, root / "out" / "similarity.html", layout=LAYOUT, top=5)


def _pair(report, a, b):
    return next(p for p in report.pairs if {p.student_a, p.student_b} == {a, b})


def test_answers_are_filled_in_and_run():
    """The answers of the test are real ones: each fills its stub, and the functions give the right distances."""
    for student, answers in ANSWERS.items():
        if not answers:
            continue
        ns = {"np": np}
        starter = cell_sources(read_notebook(LAYOUT.release_notebook(AID, f"{AID}.ipynb")))
        for gid, answer in answers.items():
            code = _fill(starter[gid], answer)
            assert "NotImplementedError" not in code, f"{student}/{gid}: the stub was not replaced"
            exec(compile(code, f"{student}/{gid}", "exec"), ns)
        train, test = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]]), np.array([[0.0, 0.0], [6.0, 8.0]])
        want = np.array([[0.0, 5.0, np.sqrt(2.0)], [10.0, 5.0, np.sqrt(74.0)]])
        for fn in ("compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops"):
            np.testing.assert_allclose(ns[fn](train, test), want, atol=1e-9, err_msg=f"{student}: {fn}")
        np.testing.assert_allclose(ns["compute_distances_l1"](train, test), [[0, 7, 2], [14, 7, 12]])
        labels = [int(ns["predict_labels"](np.array([[0.1, 0.2, 0.3, 0.4]]), np.array([2, 1, 2, 1]), k=k)[0])
                  for k in (1, 2, 3)]
        assert labels == [2, 1, 2], f"{student}: predict_labels"


def test_the_near_copy_ranks_first(report):
    top = report.pairs[0]
    assert {top.student_a, top.student_b} == {"ben", "eve"}, report.pairs[:3]
    assert top.similarity > 0.8 and top.share_a > 0.8 and top.share_b > 0.8, top


def test_honest_pairs_score_clearly_lower(report):
    top = report.pairs[0]
    for i, a in enumerate(HONEST):
        for b in HONEST[i + 1:]:
            pair = _pair(report, a, b)
            assert pair.similarity < 0.3 and pair.similarity < top.similarity / 3, pair
    # eve's copy is of ben's work, not of the others'
    for other in ("ana", "chloe", "dmitri"):
        assert _pair(report, "eve", other).similarity < 0.3


def test_starter_code_is_not_counted_as_shared(report):
    untouched = _pair(report, "gus", "hana")
    assert untouched.similarity == 0 and untouched.shared_tokens == 0, untouched
    for student in HONEST + ["eve"]:
        assert _pair(report, "gus", student).similarity == 0
    # without the exclusion, the starter code alone makes two untouched notebooks copies of each other
    cell_ids, starter_cells = assignment_cells(AID, LAYOUT)
    starter = build_document(starter_cells, cell_ids)[0]
    assert len(cell_ids) == 6 and "raise NotImplementedError()" in starter
    assert rank_pairs({"gus": starter, "hana": starter}, starter="", noise=NOISE_THRESHOLD)[0].similarity > 0.9
    # copydetect's boilerplate exclusion alone (the starter's fingerprints) removes it too
    assert rank_pairs({"gus": starter, "hana": starter}, starter=starter)[0].similarity == 0


def test_a_broken_notebook_is_reported_and_the_others_compared(report):
    assert [s for s, _ in report.problems] == ["frank"]
    assert "not valid JSON" in report.problems[0][1], report.problems
    assert report.students == sorted(set(ANSWERS))
    assert len(report.pairs) == len(ANSWERS) * (len(ANSWERS) - 1) // 2


def test_a_missing_answer_cell_is_noted(report):
    assert report.notes == [("hana", "answer cell 'cross_validate_k' of 01_knn.ipynb is missing (not compared)")]


def test_own_code_leaves_out_the_starter_lines_even_re_indented():
    starter = "def f(x):\n    y = x + 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n    return y\n"
    answer = "def f(x):\n  y = x + 1\n  y = y * 2 if y > 0 else -y\n  return y\n"
    assert own_code(answer, starter) == ("# ... 2 lines of starter code\n  y = y * 2 if y > 0 else -y\n"
                                         "  # ... 1 line of starter code")
    assert own_code(starter, starter) == "# ... 5 lines of starter code"


def test_the_html_report_highlights_the_shared_code_of_the_top_pair(report):
    text = report.html.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text, "the report must be self-contained"
    section = text.split("<section id='pair-1'>", 1)[1].split("</section>", 1)[0]
    assert "ben" in section and "eve" in section and f"{report.pairs[0].similarity:.0%}" in section
    marked = " ".join(re.findall(r"<mark class='shared'>(.*?)</mark>", section, re.DOTALL))
    for code in ("np.linalg.norm(X_train - X[i], axis=1)", "sq[sq &lt; 0] = 0.0", "Counter(near.tolist())"):
        assert code in marked, f"{code!r} is not highlighted in the top pair"
    # the starter code is left out of what is compared, and the report says where it was
    assert "of starter code" in section and "def compute_distances_" not in section
    assert "frank" in text and "not valid JSON" in text


def test_unknown_assignment_and_missing_folder_are_reported(tmp_path):
    with pytest.raises(ValueError, match="'99_nope'"):
        similarity_report(tmp_path, "99_nope", tmp_path / "r.html", layout=LAYOUT)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        similarity_report(tmp_path / "absent", AID, tmp_path / "r.html", layout=LAYOUT)


@pytest.mark.parametrize("aid", LAYOUT.assignment_ids())
def test_starter_from_source_is_what_release_writes(aid):
    """Without notebooks/<id>/, the starter code comes from the source the way nbgrader makes it."""
    source = cell_sources(read_notebook(LAYOUT.source_notebook(aid, f"{aid}.ipynb")))
    released = cell_sources(read_notebook(LAYOUT.release_notebook(aid, f"{aid}.ipynb")))
    code = {c.metadata["nbgrader"]["grade_id"] for c in read_notebook(LAYOUT.source_notebook(aid, f"{aid}.ipynb")).cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade_id")}
    for gid, text in source.items():
        if "### BEGIN SOLUTION" in text and gid in code:  # answer code (the inline questions are markdown)
            assert starter_from_source(text).rstrip() == released[gid].rstrip(), gid


def test_course_similarity_prints_the_top_pairs_and_writes_the_report(report, tmp_path):
    submissions = report.html.parent.parent / "submissions"
    out = tmp_path / "knn.html"
    run = subprocess.run([sys.executable, "-m", "course.cli", "similarity", str(submissions), "--assignment", AID,
                          "--out", str(out), "--top", "3"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 1, run.stderr  # frank's notebook could not be read
    assert "ben" in run.stdout and "eve" in run.stdout and "frank" in run.stdout and str(out) in run.stdout
    assert out.is_file()
    unknown = subprocess.run([sys.executable, "-m", "course.cli", "similarity", str(submissions), "--assignment",
                              "99_nope"], cwd=ROOT, capture_output=True, text=True)
    assert unknown.returncode == 2 and "99_nope" in unknown.stderr
