"""The export registry drives every place that lists exports: the CLI's --format, its default file names and
the writer each format runs (the GUI's menu and buttons are checked in tests/gui/test_export_menu.py)."""

import importlib

import pytest

from core import cli
from core.files import export
from core.files.export_formats import EXPORT_FORMATS, FORMATS


def test_cli_format_choices_are_the_registry(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["export", "--help"])
    assert exited.value.code == 0
    assert tuple(EXPORT_FORMATS) == FORMATS and "pt2" in FORMATS
    assert "{" + ",".join(FORMATS) + "}" in capsys.readouterr().out  # argparse lists the choices in this order
    assert "|".join(FORMATS) in cli.DESCRIPTION


@pytest.mark.parametrize("fmt", list(EXPORT_FORMATS.values()), ids=list(EXPORT_FORMATS))
def test_each_format_has_a_writer_a_name_and_a_filter(fmt):
    assert callable(getattr(importlib.import_module(fmt.module), fmt.writer))
    assert export.default_output("nets/digits.json", fmt.id).name == "digits" + fmt.suffix
    assert f"(*.{fmt.suggested_suffix.rsplit('.', 1)[-1]})" in fmt.file_filter
    assert fmt.label and fmt.help


def test_a_format_added_to_the_registry_is_offered_and_written(monkeypatch, tmp_path):
    """One entry (and its writer) is all a new format needs: the CLI's export command runs it."""
    from dataclasses import replace

    from core.files.export_formats import ExportFormat

    written = []

    def export_echo(project, out, weights=None):
        written.append((project.name, str(out), weights))
        return export.ExportResult(tmp_path / "x.echo", "echo", "echoed")

    monkeypatch.setattr(export, "export_echo", export_echo, raising=False)
    echo = ExportFormat("echo", "echo", ".echo", "Echo (*.echo)", "A test format.", "export_echo")
    monkeypatch.setitem(EXPORT_FORMATS, "echo", replace(echo))
    from core.files.project import load
    from tests.conftest import EXAMPLES

    project = load(EXAMPLES / "spirals.json")
    result = export.export(project, "echo", tmp_path / "spirals.echo")
    assert result.details == "echoed" and written == [(project.name, str(tmp_path / "spirals.echo"), None)]
    assert export.default_output("spirals.json", "echo").name == "spirals.echo"
