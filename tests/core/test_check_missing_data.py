"""``torchcanvas check`` refuses a dataset path that does not exist in train's words (trial 4, G: it printed
"OK: the network is valid." and exited 0 for a missing image folder, which train refused), and its Data line
calls only image folders "images" (it said "images at the Input's size" of a text file and a table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import main
from core.datasets import load_dataset
from core.errors import DataError
from core.files.project import save
from tests.core.train_fixtures import mlp_project


def _check(tmp_path: Path, shape: list[int], dataset: str, capsys: pytest.CaptureFixture[str]) -> tuple:
    path = tmp_path / "project.json"
    save(mlp_project(shape, 8, 3, dataset=dataset, epochs=1, batch_size=4), path)
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    errors = [line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")]
    data = [line for line in out.splitlines() if line.startswith("Data: ")]
    return code, errors, data


@pytest.mark.parametrize("kind", ["folder", "table", "text", "npz"])
def test_a_missing_dataset_path_is_checks_error_in_trains_words(tmp_path, capsys, kind) -> None:
    missing = tmp_path / ("nonexist" if kind == "folder" else "nonexist.tsv")
    spec = f"{kind}:{missing}"
    with pytest.raises(DataError) as refused:
        load_dataset(spec)
    code, errors, data = _check(tmp_path, [1, 8, 8] if kind == "folder" else [4], spec, capsys)
    assert code == 1
    assert errors[0] == str(refused.value)
    assert data == [f"Data: {missing.name} (cannot be loaded: see the error below); loss: CrossEntropyLoss"]


def test_the_data_line_of_a_text_file_that_cannot_load_does_not_call_it_images(tmp_path, capsys) -> None:
    text = tmp_path / "reviews.tsv"
    text.write_text("pos\tgood film\nneg\tbad film\nno tab on this line\n", encoding="utf-8")
    code, errors, data = _check(tmp_path, [50], f"text:{text}", capsys)
    assert code == 1 and "row 3" in errors[0]
    assert data == ["Data: reviews.tsv (cannot be loaded: see the error below); loss: CrossEntropyLoss"]
