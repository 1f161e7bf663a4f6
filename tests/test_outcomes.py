"""What a notebook says its experiments show is what its reference run recorded (autograder/outcomes.py)."""

import json

import pytest

from autograder import outcomes
from course.paths import course_layout

LAYOUT = course_layout()
IDS = LAYOUT.assignment_ids()
# The notebooks whose experiments teach by their outcome (issue 15): each states it, machine-checked.
EXPERIMENTS = ("05_optimization", "06_regularization", "07_keras_convnets", "08_transfer_learning")


@pytest.mark.parametrize("aid", IDS)
def test_every_stated_outcome_holds_in_the_reference(aid):
    problems = outcomes.false_claims(aid)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("aid", EXPERIMENTS)
def test_experiments_state_their_outcome_in_both_profiles(aid):
    claims = outcomes.notebook_claims(LAYOUT.source_notebook(aid, f"{aid}.ipynb"), aid)
    for profile in outcomes.PROFILES:
        assert any(profile in c.profiles for c in claims), f"{aid} states no outcome of its {profile} run"


def _claim(text, results):
    (claim,) = outcomes.claims_in_text(text, "toy", 0)
    return outcomes.evaluate(claim, results)


def test_a_claim_reads_the_profiles_and_the_results():
    (claim,) = outcomes.claims_in_text('It helps.\n<!-- outcome[*]: results["a"] > results["b"] -->', "toy", 3)
    assert claim.profiles == ("quick", "full") and claim.cell == 3 and claim.sentence == "It helps."
    assert outcomes.evaluate(claim, {"a": 0.9, "b": 0.8}) is True
    assert outcomes.evaluate(claim, {"a": 0.8, "b": 0.8}) is False  # a tie is not "helps"


@pytest.mark.parametrize("expression, results, expected", [
    ('round(100 * results["acc"], 1) == 92.6', {"acc": 0.92551}, True),
    ('round(100 * results["acc"], 1) == 92.6', {"acc": 0.92549}, False),
    ('min(results["s"].values()) > 0.5', {"s": {"10": 0.6, "100": 0.7}}, True),
    ('all(b > a for a, b in zip(results["c"], results["c"][1:]))', {"c": [1, 2, 3]}, "zip"),
    ('all(v > 0.5 for v in results["s"].values())', {"s": {"10": 0.6, "100": 0.4}}, False),
])
def test_claims_with_numbers_and_builtins(expression, results, expected):
    text = f"<!-- outcome[full]: {expression} -->"
    if isinstance(expected, str):  # a function outside the list: a claim is a statement, not a program
        with pytest.raises(outcomes.ClaimError, match=f"unknown name '{expected}'"):
            _claim(text, results)
    else:
        assert _claim(text, results) is expected


@pytest.mark.parametrize("text, message", [
    ('<!-- outcome[fast]: results["a"] > 0 -->', "names no profile"),
    ('<!-- outcome[full]: results["a"] > -->', "not a Python expression"),
    ('<!-- outcome[full]: __import__("os").system("true") -->', "unknown name '__import__'"),
    ('<!-- outcome[full]: results.a > 0 -->', "Attribute is not allowed"),
    ('<!-- outcome[full]: results["a"].bit_length() > 0 -->', "may be called"),
    ('<!-- outcome[full]: results["a"] + 1 -->', None),
])
def test_bad_claims_are_refused_with_the_reason(text, message):
    if message is None:  # reads, but is not a statement: refused when evaluated
        with pytest.raises(outcomes.ClaimError, match="true or false, this one is 2"):
            _claim(text, {"a": 1})
    else:
        with pytest.raises(outcomes.ClaimError, match=message):
            outcomes.claims_in_text(text, "toy", 0)


def test_a_missing_result_names_what_the_reference_has():
    with pytest.raises(outcomes.ClaimError, match=r"records no 'gain' \(it has a, b\)"):
        _claim('<!-- outcome[full]: results["gain"] > 0 -->', {"a": 1, "b": 2})


def test_a_false_claim_fails_the_assignment_with_its_sentence(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {},
              "source": 'Augmentation helps.\n<!-- outcome[quick]: results["aug"] > results["base"] -->'},
             {"cell_type": "markdown", "metadata": {}, "source": '<!-- outcome[full]: results["aug"] > 0 -->'}]
    path = tmp_path / "toy.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    refs = {"quick": {"aug": 0.6, "base": 0.7}, "full": None}
    problems = outcomes.false_claims("toy", path, lambda aid, profile: refs[profile])
    assert problems == ["toy cell 0 [quick]: results[\"aug\"] > results[\"base\"] is false in the quick reference "
                        "(the text: 'Augmentation helps.')",
                        "toy cell 1 [full]: results[\"aug\"] > 0: no full reference to check it against"]


def test_a_generator_in_a_claim_sees_the_results():
    text = '<!-- outcome[full]: max(max(results["a"][k]) for k in ("x", "y")) == 3 -->'
    assert _claim(text, {"a": {"x": [1, 2], "y": [3, 0]}}) is True
