"""predict.py (``torchcanvas export -f predict``): the trained network on one new image file or sentence.

Review 6, S7: the README and CONTRACTS pointed at "the exported script's predict", but no export wrote one, so a
user who trained had no code for the step after training. Each test here trains a tiny real run, exports predict.py
from its run folder and checks it against the app's Try it steps (``core.portable.inference``) for the same input:
same class, same probability (1e-5); the file passes ruff; a wrong input or a missing weights file is one sentence.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from core.cli import main as cli_main
from core.datasets import load_for_settings
from core.datasets.text import read_vocab
from core.errors import ExportError
from core.files.built_model import build_model
from core.files.export import export
from core.files.project import Project, load
from core.files.text_examples import write_sentiment
from core.portable import inference
from core.training import Trainer
from tests.core.test_text import embedding_project
from tests.core.train_fixtures import EXAMPLES, MNIST, mlp_project, needs_mnist, write_csv

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PRINTED = re.compile(r"^(.+) \(probability (\d\.\d{6})\)$")


def _trained(project: Project, folder: Path) -> Path:
    project.training.device, project.training.epochs = "cpu", 1
    result = Trainer(project, out_dir=folder / "runs").run()
    assert result.status == "finished", result.message
    return Path(result.run_dir)


def _exported(project: Project, run_dir: Path, folder: Path) -> Path:
    """predict.py and the run's weights as model_weights.pt beside it, both through the exporter."""
    folder.mkdir(exist_ok=True)
    export(project, "weights", folder / "model_weights.pt", run_dir)
    return export(project, "predict", folder / "predict.py", run_dir).path


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("exported_predict", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, script.name, *args], cwd=script.parent, capture_output=True, text=True, check=False
    )


def _ruff_clean(path: Path) -> None:
    for args in (["check"], ["format", "--check", "--diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--isolated", "--no-cache", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def _try_it_image(project: Project, run_dir: Path, picture: Path) -> np.ndarray:
    """What Try it gives an image file (gui.training.tryit_model.TrySource.image_file): read as the training reads
    an image file (``inference.read_image_file``: Pillow), then ``inference.predict`` with the run's data's mean,
    std and sizes."""
    shape = tuple(project.graph.nodes_of_type("Input")[0].params["shape"])
    data = load_for_settings(project.training, shape)
    sizes = tuple(data.sample_shape[-2:])
    sample = inference.read_image_file(picture, sizes, data.sample_shape[0])
    model = build_model(project, run_dir).module.cpu().eval()
    probs = inference.predict(model, sample, data.mean, data.std, data.input_shape, project.training.loss, sizes, "chw")
    return probs.numpy()


def _digit_png(folder: Path, index: int, size: tuple[int, int] = (40, 36)) -> Path:
    """A test digit of the MNIST file as a colour PNG of another size: colour made grey and a resize on the way."""
    digits = np.load(MNIST / "mnist_10k.npz")["x_test"]
    grey = Image.fromarray(digits[index]).resize(size)
    path = folder / f"digit{index}.png"
    Image.merge("RGB", (grey, grey.point(lambda v: v * 0.9), grey)).save(path)
    return path


MNIST_NPZ = f"npz:{MNIST / 'mnist_10k.npz'}:per_class=12"


@needs_mnist
@pytest.mark.slow  # python predict.py runs in a child process: seconds
@pytest.mark.parametrize("example", ["mnist_mlp.json", "mnist_cnn.json"])  # softmax, and log_softmax (NLLLoss)
def test_predict_py_of_an_npz_image_run_gives_try_its_class_and_probability(tmp_path: Path, example: str) -> None:
    project = load(EXAMPLES / example)
    project.training.dataset = MNIST_NPZ
    if example == "mnist_cnn.json":
        project.training.optimizer, project.training.lr = "Adam", 0.001
    run_dir = _trained(project, tmp_path)
    script = _exported(project, run_dir, tmp_path / "out")
    text = script.read_text()
    _ruff_clean(script)
    assert "class Net(nn.Module):" in text and "model.load_state_dict(state)" in text
    assert "weights_only=True" in text and "model.eval()" in text and "torch.no_grad()" in text
    assert ("outputs.exp()" in text) == (project.training.loss == "NLLLoss")
    assert "read_text" not in text and "WORDS" not in text  # only this project's path
    for index in (0, 1, 2):
        picture = _digit_png(tmp_path, index)
        expected = _try_it_image(project, run_dir, picture)
        module = _module(script)
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(script.parent)
            got = module.probabilities(module.load_model(), module.read_image(str(picture))).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-6)
        assert module.CLASSES[int(got.argmax())] == str(int(expected.argmax()))
    done = _run(script, str(picture))
    assert done.returncode == 0, done.stderr
    found = PRINTED.match(done.stdout.strip())
    assert found is not None, done.stdout
    assert found[1] == module.CLASSES[int(expected.argmax())] and abs(float(found[2]) - expected.max()) < 1e-5


def _sentiment_run(tmp_path: Path, **spec_options: str) -> tuple[Project, Path]:
    spec = write_sentiment(tmp_path, samples=160)
    for key, value in spec_options.items():
        spec += f"&{key}={value}" if "?" in spec else f"?{key}={value}"
    length = 50 if "max_length" not in spec_options else int(spec_options["max_length"])
    project = embedding_project(spec, length, 400, 2, hidden=8)
    return project, _trained(project, tmp_path)


@pytest.mark.slow  # python predict.py runs in a child process: seconds
@pytest.mark.parametrize("tokenizer", ["word", "char"])
def test_predict_py_of_a_text_run_gives_try_its_class_and_probability(tmp_path: Path, tokenizer: str) -> None:
    options = {"tokenizer": "char", "max_length": "60"} if tokenizer == "char" else {}
    project, run_dir = _sentiment_run(tmp_path, **options)
    script = _exported(project, run_dir, tmp_path / "out")
    _ruff_clean(script)
    vocab = read_vocab(run_dir)
    assert vocab is not None and vocab.tokenizer == tokenizer
    module = _module(script)
    assert module.vocabulary() == list(vocab.tokens)  # the run's own vocabulary, every token in id order
    model = build_model(project, run_dir).module.cpu().eval()
    sentences = ["The film was great, I loved it!", "what a dull and boring story", 'awful "acting" here']
    for sentence in sentences:  # Try it: the run's vocab.json encodes the typed text (encode_typed)
        expected = inference.predict(model, np.array(vocab.encode(sentence)), None, None, (vocab.max_length,), "x")
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(script.parent)
            got = module.probabilities(module.load_model(), module.read_text(sentence))
        np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-6)
    done = _run(script, *sentences[0].split())
    found = PRINTED.match(done.stdout.strip())
    assert done.returncode == 0 and found is not None, done.stdout + done.stderr
    expected = inference.predict(model, np.array(vocab.encode(sentences[0])), None, None, (vocab.max_length,), "x")
    assert found[1] == module.CLASSES[int(expected.argmax())] and abs(float(found[2]) - float(expected.max())) < 1e-5


def _colour_table(path: Path) -> Path:
    """write_csv's three-class table with a category column of its own (two values, one-hot)."""
    lines = write_csv(path).read_text().splitlines()
    rows = [f"{line},{['red', 'blue'][k % 2]}" for k, line in enumerate(lines[1:])]
    path.write_text("\n".join([f"{lines[0]},colour", *rows]) + "\n")
    return path


@pytest.mark.slow  # python predict.py runs in a child process: seconds
def test_predict_py_of_a_table_run_gives_try_its_class_and_probability(tmp_path: Path) -> None:
    """A row as NAME=VALUE pairs, encoded as the loader encodes the table (a category one-hot over its sorted
    values), standardised with the training rows' statistics: Try it's table page gives the encoded row."""
    project = mlp_project([5], 16, 3, dataset=f"table:{_colour_table(tmp_path / 'flowers.csv')}?label=species")
    run_dir = _trained(project, tmp_path)
    script = _exported(project, run_dir, tmp_path / "out")
    _ruff_clean(script)
    module = _module(script)
    assert module.COLUMNS == {"a": [], "b": [], "c": [], "colour": ["blue", "red"]}
    data = load_for_settings(project.training, (5,))
    model = build_model(project, run_dir).module.cpu().eval()
    for a, b, c, colour in ((0.1, -0.2, 0.05, "red"), (1.2, 0.9, 1.1, "blue"), (2.3, 1.8, 2.05, "red")):
        encoded = np.array([a, b, c, colour == "blue", colour == "red"], dtype=np.float32)  # Try it's feature table
        expected = inference.predict(model, encoded, data.mean, data.std, (5,), project.training.loss).numpy()
        row = [f"a={a}", f"b={b}", f"c={c}", f"colour={colour}"]
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(script.parent)
            got = module.probabilities(module.load_model(), module.read_row(row)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-6)
    done = _run(script, *row)
    found = PRINTED.match(done.stdout.strip())
    assert done.returncode == 0 and found is not None, done.stdout + done.stderr
    assert found[1] == data.class_names[int(expected.argmax())] and abs(float(found[2]) - expected.max()) < 1e-5
    for args, words in (
        (["a=1", "b=2", "colour=red"], "Give every column as NAME=VALUE; missing: c."),
        (["a=1", "b=2", "c=x", "colour=red"], "c=x: c takes a number."),
        (["a=1", "b=2", "c=3", "colour=green"], "colour=green: it takes blue, red."),
    ):
        done = _run(script, *args)
        assert done.returncode == 1 and done.stderr.strip() == words, done.stderr


@pytest.mark.slow  # python predict.py runs in a child process: seconds
def test_a_wrong_input_or_missing_weights_is_one_sentence(tmp_path: Path) -> None:
    project = mlp_project([1, 8, 8], 16, 10, dataset="digits")
    run_dir = _trained(project, tmp_path)
    script = export(project, "predict", tmp_path / "predict.py", run_dir).path
    (tmp_path / "notes.txt").write_text("not a picture")
    for args, words in (
        (["digit.png"], "model_weights.pt is not in this folder: run train.py first"),
        ([], "the following arguments are required: image"),
    ):
        done = _run(script, *args)
        assert done.returncode != 0 and done.stdout == ""
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr
    (tmp_path / "model_weights.pt").write_bytes(b"torn")
    done = _run(script, "notes.txt")
    assert done.returncode == 1 and done.stderr.startswith("model_weights.pt is damaged or not a weights file")
    assert len(done.stderr.strip().splitlines()) == 1
    other = mlp_project([1, 8, 8], 32, 10, dataset="digits")
    export(other, "weights", tmp_path / "model_weights.pt", _trained(other, tmp_path / "other"))
    done = _run(script, "notes.txt")
    assert done.stderr.startswith("model_weights.pt holds the weights of another network, not of this Net")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    export(project, "weights", tmp_path / "model_weights.pt", run_dir)
    for name, words in (("notes.txt", "notes.txt could not be read as an image"), ("missing.png", "missing.png")):
        done = _run(script, name)
        assert done.returncode == 1 and done.stderr.startswith(words) and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_cli_writes_predict_py_and_refuses_data_it_cannot_read(tmp_path: Path, capsys) -> None:
    project = mlp_project([1, 8, 8], 16, 10, dataset="digits")
    run_dir = _trained(project, tmp_path)
    path = tmp_path / "digits.json"
    from core.files.project import save

    save(project, path)
    assert (
        cli_main(["export", str(path), "-f", "predict", "-o", str(tmp_path / "p.py"), "--weights", str(run_dir)]) == 0
    )
    assert "Wrote" in capsys.readouterr().out and "def read_image(" in (tmp_path / "p.py").read_text()
    table = mlp_project([2], 8, 3, dataset="spirals")  # points: no file or sentence to read
    with pytest.raises(ExportError, match=r"predict\.py reads an image file or a sentence"):
        export(table, "predict", tmp_path / "t.py")
    assert not (tmp_path / "t.py").exists()
    flowers = _colour_table(tmp_path / "flowers.csv")
    regression = mlp_project([7], 8, 1, dataset=f"table:{flowers}?label=c", loss="MSELoss")
    with pytest.raises(ExportError, match="written for classifiers: this project predicts numbers"):
        export(regression, "predict", tmp_path / "t.py")
    lines = flowers.read_text().splitlines()
    flowers.write_text("\n".join([lines[0], "," + lines[1].split(",", 1)[1], *lines[2:]]))  # a gap in column a
    with pytest.raises(ExportError, match="the column a has empty cells"):
        export(mlp_project([6], 8, 3, dataset=f"table:{flowers}?label=species"), "predict", tmp_path / "t.py")


@pytest.mark.slow  # python predict.py runs in a child process: seconds
def test_a_colour_network_keeps_the_colours_and_its_mean_per_channel(tmp_path: Path) -> None:
    """The resnet_small example (3-channel shapes): no grey step, a mean and std of three values, block classes."""
    project = load(EXAMPLES / "resnet_small.json")
    script = export(project, "predict", tmp_path / "predict.py").path
    _ruff_clean(script)
    module = _module(script)
    assert len(module.MEAN) == len(module.STD) == 3 and "GREY" not in script.read_text()
    torch_model = build_model(project).module.eval()  # untrained: the steps are what is compared
    picture = tmp_path / "red.png"
    Image.new("RGB", (45, 30), (200, 30, 10)).save(picture)
    data = load_for_settings(project.training, module.INPUT_SHAPE)
    sample = inference.read_image_file(picture, (32, 32), 3)  # Try it's file path
    expected = inference.preprocess(sample, data.mean, data.std, data.input_shape, (32, 32), "chw")
    np.testing.assert_allclose(module.read_image(str(picture)).numpy(), expected.numpy(), atol=1e-6)
    got = module.probabilities(torch_model, module.read_image(str(picture)))
    np.testing.assert_allclose(
        got.numpy(),
        inference.predict(
            torch_model, sample, data.mean, data.std, data.input_shape, project.training.loss, (32, 32), "chw"
        ).numpy(),
        atol=1e-6,
    )


def test_a_long_vocabulary_is_wrapped_as_ruff_formats_it(tmp_path: Path) -> None:
    from core.code.predict_script import PredictFacts, generate_predict

    project, _ = _sentiment_run(tmp_path)
    words = tuple(f"w{k}'s" if k % 7 else f'"q{k}"' for k in range(600))
    for tokenizer, tokens in (("word", words), ("char", tuple("".join(chr(32 + k % 90) for k in range(300))))):
        facts = PredictFacts(
            "text",
            ["neg", "pos"],
            (50,),
            "CrossEntropyLoss",
            2,
            tokens=("<pad>", "<unk>", *tokens),
            tokenizer=tokenizer,
        )
        script = tmp_path / f"{tokenizer}.py"
        script.write_text(generate_predict(project, facts))
        _ruff_clean(script)
        assert max(len(line) for line in script.read_text().splitlines()) <= 88
        assert tuple(_module(script).vocabulary()) == facts.tokens


@pytest.mark.slow  # python predict.py runs in a child process: seconds
def test_an_imported_network_with_a_new_head_exports_predict_py_before_any_run(tmp_path: Path) -> None:
    """T1 (review 7): an imported network (its ImageNet weights beside the project) whose head was set to this
    data's classes. predict.py loads model_weights.pt when it runs, so the imported weights, made for 1000 classes,
    are not checked against the new head (the export was refused: "Was the layer changed after training?")."""
    import torch

    from core.files.initial_weights import KEY
    from core.files.project import save

    project = load(EXAMPLES / "resnet_small.json")  # its head: fc, 5 classes of 32 features
    imported = build_model(project).module.state_dict()
    imported["fc.weight"], imported["fc.bias"] = torch.zeros(1000, 32), torch.zeros(1000)  # the imported head
    torch.save(imported, tmp_path / "net.initial.pt")
    project.extra[KEY] = "net.initial.pt"
    save(project, tmp_path / "net.json")
    result = export(project, "predict", tmp_path / "predict.py", project_path=tmp_path / "net.json")
    _ruff_clean(result.path)
    classes = load_for_settings(project.training, (3, 32, 32)).class_names
    assert list(map(str, classes)) == _module(result.path).CLASSES
    assert cli_main(["export", str(tmp_path / "net.json"), "-f", "predict", "-o", str(tmp_path / "p.py")]) == 0
    with pytest.raises(ExportError, match="Was the layer changed after training"):  # a run's weights still checked
        export(project, "predict", tmp_path / "q.py", tmp_path / "net.initial.pt", project_path=tmp_path / "net.json")


def test_predict_py_reads_the_vocabulary_train_py_saved_beside_the_weights(tmp_path: Path) -> None:
    """T10 (review 7): predict.py held only the vocabulary of the texts when it was exported, while train.py saves
    its own in vocab.json: a CSV grown in between gave words other ids in silence. vocab.json is read when there."""
    import json

    from core.code.predict_script import PredictFacts, generate_predict

    facts = PredictFacts(
        "text", ["neg", "pos"], (6,), "CrossEntropyLoss", 2, tokens=("<pad>", "<unk>", "film", "good"), max_length=6
    )
    script = tmp_path / "predict.py"
    script.write_text(generate_predict(mlp_project([6], 4, 2), facts))
    _ruff_clean(script)
    module = _module(script)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        assert module.read_text("good film bad").tolist() == [[3, 2, 1, 0, 0, 0]]  # no vocab.json: the constants
        saved = {"tokenizer": "word", "max_length": 6, "tokens": ["<pad>", "<unk>", "bad", "good", "film"]}
        (tmp_path / "vocab.json").write_text(json.dumps(saved))
        assert module.read_text("good film bad").tolist() == [[3, 4, 2, 0, 0, 0]]  # train.py's ids
        (tmp_path / "vocab.json").write_text("{")
        with pytest.raises(SystemExit, match=r"vocab\.json is damaged"):
            module.read_text("good film")
