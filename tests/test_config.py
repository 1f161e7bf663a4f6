import pytest

from course import config


def test_profile_defaults_to_full(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert config.profile() == "full"


def test_profile_reads_environment_case_insensitively(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", " Quick ")
    assert config.profile() == "quick"
    assert config.by_profile(quick=1, full=2) == 1


def test_unknown_profile_is_rejected_with_its_name(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "huge")
    with pytest.raises(ValueError, match="'huge'.*quick, full"):
        config.profile()


def test_repo_root_and_data_dir(monkeypatch, tmp_path):
    assert (config.repo_root() / "nbgrader_config.py").is_file()
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert config.data_dir() == tmp_path.resolve()
