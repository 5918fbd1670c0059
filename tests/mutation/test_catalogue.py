"""The mutation catalogue itself: well-formed, current with the code (every rule's text found exactly once), a
stale rule reported as an error, and (slow) the CI subset of mutants all caught."""
import dataclasses

import pytest

import run_mutants
from catalogue import MUTANTS, Mutant


def test_the_catalogue_is_well_formed_and_every_rule_matches_the_code_exactly_once():
    assert run_mutants.problems(MUTANTS) == []
    assert len(MUTANTS) >= 60
    assert 10 <= sum(mutant.fast for mutant in MUTANTS) <= 15
    for mutant in MUTANTS:
        assert mutant.tests and mutant.about and mutant.file.startswith("tinygen/"), mutant.id


def test_a_rule_whose_text_is_gone_or_ambiguous_is_stale(tmp_path):
    (tmp_path / "tinygen").mkdir()
    (tmp_path / "tinygen" / "ops.py").write_text("y = x + 1\ny = x + 1\nz = 2\n")
    (tmp_path / "test_ops.py").write_text("")
    rule = dict(file="tinygen/ops.py", replace="w = 0", about="a", tests=("test_ops.py",))
    rules = [Mutant("gone", find="z = 3", **rule), Mutant("twice", find="y = x + 1", **rule),
             Mutant("fine", find="z = 2", **rule), Mutant("fine", find="z = 2\n", **rule),
             Mutant("no-test", find="z", **dict(rule, tests=("test_missing.py::test_it",)))]
    assert run_mutants.problems(rules, tmp_path) == [
        "fine: the id is used more than once",
        "gone: STALE: its text is not there in tinygen/ops.py: update the rule to the code",
        "twice: STALE: its text occurs 2 times in tinygen/ops.py: update the rule to the code",
        "no-test: no test file test_missing.py::test_it",
    ]


def test_the_runner_refuses_to_run_with_a_stale_rule(monkeypatch, capsys):
    stale = dataclasses.replace(MUTANTS[0], find="text that is nowhere in the file")
    monkeypatch.setattr(run_mutants, "MUTANTS", [stale])
    assert run_mutants.main([]) == 2
    assert f"error: {stale.id}: STALE: its text is not there in {stale.file}" in capsys.readouterr().out


@pytest.mark.slow
def test_every_mutant_of_the_ci_subset_is_killed(capsys):
    status = run_mutants.main(["--fast", "--no-baseline"])
    assert status == 0, capsys.readouterr().out
