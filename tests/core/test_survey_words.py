"""Trial 4's smaller survey findings (I.1, I.2, I.6): image sizes said as width x height like image viewers and
``--size`` (the survey said 40x20 and "used: (40, 20)" for files 20 pixels wide), a rising id column used as a
number feature is noted, and ``torchcanvas data`` exits 1 (README) for data that training refuses, not 2."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from core.cli import main
from core.datasets.survey import survey, survey_lines


def _tall(root: Path) -> Path:
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (20, 40), (90 * i, 30, 60)).save(root / name / f"{i}.png")  # 20 wide, 40 high
    return root


def test_image_sizes_are_width_by_height(tmp_path) -> None:
    root = _tall(tmp_path / "tall")
    lines = survey_lines(survey(f"folder:{root}"))
    assert any(line.startswith("Image sizes (width x height): 20x40 (4); used: 20x40 (") for line in lines), lines
    (wide,) = [n for n in survey(f"folder:{root}", resize=(16, 32)).notes if n.startswith("The images are")]
    assert wide.startswith("The images are 20x40 (width x height): resized to 32x16 (the resize setting [16, 32]")


def test_a_rising_id_column_is_noted(tmp_path) -> None:
    path = tmp_path / "t.csv"
    rows = [f"{k + 1},{(k * 7) % 11},{'yes' if k % 3 else 'no'}" for k in range(30)]
    path.write_text("id,size,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    notes = survey(f"table:{path}").notes
    assert any(n.startswith("Column 'id': 30 different whole numbers rising row by row") for n in notes), notes
    assert not any("'size'" in n for n in notes)
    assert not any("'id'" in n for n in survey(f"table:{path}", column_kinds={"id": "number"}).notes)  # chosen


def test_data_exits_1_for_what_training_refuses_and_2_for_a_bad_spec(tmp_path, capsys) -> None:
    bad = tmp_path / "rev.tsv"
    bad.write_text("pos\tgood film\nneg\tbad film\n" * 5 + "pos\n", encoding="utf-8")
    assert main(["data", str(bad)]) == 1  # was 2
    assert "row 11: no label and tab" in capsys.readouterr().err
    assert main(["data", f"folder:{tmp_path / 'missing'}"]) == 1  # was 2
    assert "missing: no such folder" in capsys.readouterr().err
    assert main(["data", "no-such-dataset"]) == 2
