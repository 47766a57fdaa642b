"""The layers run one way (docs/architecture.md): the import-linter contract in
pyproject.toml is kept by the code as it stands."""

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_every_app_imports_only_the_apps_below_it(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_the_check_sees_an_import_that_runs_back_up(monkeypatch, tmp_path):
    """The same check, given the layers upside down, finds the real imports that then
    run the wrong way: it reads our code and can fail."""
    config = tmp_path / "upside-down.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    common\n    accounts\n    licences\n\n"
        "[importlinter:contract:upside-down]\nname = Upside down\ntype = layers\n"
        "layers =\n    common\n    accounts\n    licences\n"
    )
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(config), no_cache=True) == 1
