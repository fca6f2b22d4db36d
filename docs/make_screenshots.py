"""Regenerate the pictures of docs/TUTORIAL.md (docs/tutorial/*.png) from the real app, offscreen.

    python docs/make_screenshots.py [--size 1280x800] [--mnist PATH.npz] [--out DIR] [--start 08]

Each picture is the main window after the tutorial's step, driven through the editor's own commands (what a
click in the palette, a drag between ports or a field in the inspector does) and rendered like
``torchcanvas --screenshot``. Run it after every visible change and commit the PNGs; tests/test_tutorial.py
checks that every picture the tutorial names exists. Takes a minute or two (it trains twice, on the CPU).

MNIST cannot be downloaded everywhere, so the CNN part uses an ``mnist.npz`` in the Keras layout (default: the
10,000-image ``mnist_10k.npz`` in ../shared/data/mnist beside the repository); without one it asks for the
``mnist`` download like a user would.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "tutorial"
DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist" / "mnist_10k.npz"
FIRST_EPOCHS = 15  # the first-start example: a couple of seconds
CNN_EPOCHS = 2
RESNET_EPOCHS = 6  # the example's own: ~100 % test accuracy in about 20 s
RESNET_EXAMPLE = REPO / "resources" / "examples" / "resnet_small.json"
RESNET_STEPS_FROM = "08"  # the ResNet steps open their own example: --start 08 makes only their pictures
OWN_DATA_FROM = "11"  # so do the own-data steps: --start 11 makes only the wizard's pictures
LAYER_HEALTH_FROM = "14"  # the layer health step opens the first example again (chapter 10's picture)
PRETRAINED_FROM = "15"  # and the pretrained network's: --start 15

sys.path.insert(0, str(REPO))  # runs from a clone, installed or not (like bench/)


class Tour:
    """The window, its training dashboard and the nodes the tutorial has made so far, by the tutorial's names."""

    def __init__(self, window: object, dashboard: object, out: Path, mnist: str, scratch: Path) -> None:
        self.window = window
        self.scratch = scratch  # the tutorial's own files (the saved project, the runs): not in the repository
        self.dashboard = dashboard
        self.out = out
        self.mnist = mnist
        self.nodes: dict[str, str] = {}
        self.picture: object = None  # a dialog the step left open (the data wizard): pictured instead of the window

    @property
    def editor(self):  # gui.canvas.editor.Editor
        return self.window.editor  # type: ignore[attr-defined]

    def settle(self) -> None:
        from PySide6.QtWidgets import QApplication

        for _ in range(10):
            QApplication.processEvents()

    def add(self, name: str, layer: str, after: str | None = None, **params: object) -> str:
        """Double-click ``layer`` in the palette with ``after`` selected (so it is wired in), then set ``params``
        in the inspector."""
        if after is not None:
            self.select(after)
        node = self.editor.add_after_selection(layer)
        for key, value in params.items():
            problem = self.editor.set_param(node.id, key, value)
            if problem:
                raise RuntimeError(problem)
        self.nodes[name] = node.id
        return node.id

    def select(self, name: str) -> None:
        self.window.select_node(self.nodes[name])  # type: ignore[attr-defined]
        self.settle()

    def show_dock(self, name: str) -> None:
        dock = self.window.docks[name]  # type: ignore[attr-defined]
        dock.show()
        dock.raise_()
        self.settle()

    def train(self, epochs: int) -> None:
        from gui.training.window import train_for_screenshot

        if not train_for_screenshot(self.dashboard, epochs):  # type: ignore[arg-type]
            raise RuntimeError(f"training did not finish: {self.dashboard.panel.reason.text()}")  # type: ignore[attr-defined]

    def save(self, name: str, fit: bool = True) -> Path:
        self.settle()
        if fit:
            self.window.view.fit_all()  # type: ignore[attr-defined]
        self.settle()
        image = (self.picture or self.window).grab()  # type: ignore[attr-defined]
        path = self.out / f"{name}.png"
        temporary = path.with_name(f".{path.name}.tmp.png")
        if not image.save(str(temporary), "PNG"):
            raise RuntimeError(f"could not write {temporary}")
        os.replace(temporary, path)
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        print(f"Wrote {shown} ({image.width()}x{image.height()})")
        return path


# --- the tutorial's steps, in order: each leaves the window as its picture shows it -------------------------------
def first_start(t: Tour) -> None:
    t.window.open_example()  # type: ignore[attr-defined]  # what `torchcanvas` shows on its first start


def first_training(t: Tour) -> None:
    t.train(FIRST_EPOCHS)


def new_project(t: Tour) -> None:
    t.window.document.new()  # type: ignore[attr-defined]  # File > New
    t.dashboard.choose_dataset(t.mnist)  # type: ignore[attr-defined]  # Training > Data
    t.add("x", "Input")


def missing_flatten(t: Tour) -> None:
    t.add("conv1", "Conv2d", after="x", out_channels=32, kernel_size=3)
    t.add("relu1", "ReLU", after="conv1")
    t.add("pool1", "MaxPool2d", after="relu1", kernel_size=2)
    t.add("fc1", "Linear", after="pool1", out_features=128)
    t.add("relu2", "ReLU", after="fc1")
    t.add("fc2", "Linear", after="relu2", out_features=10)
    t.add("output", "Output", after="fc2")
    t.editor.auto_layout()
    t.select("fc1")  # the layer the problem points at
    t.show_dock("code")


def flatten_added(t: Tour) -> None:
    flatten = t.add("flatten", "Flatten", after="pool1")
    from core.model.node import Edge

    problem = t.editor.connect(Edge(flatten, t.nodes["fc1"]))  # drag flatten's output onto fc1's input
    if problem:
        raise RuntimeError(problem)
    t.editor.auto_layout()
    t.select("fc1")
    t.show_dock("code")


def cnn_trained(t: Tour) -> None:
    if not t.window.save_as(t.scratch / "mnist_cnn.json"):  # type: ignore[attr-defined]  # File > Save As
        raise RuntimeError("could not save the tutorial's project")
    t.train(CNN_EPOCHS)
    t.dashboard.tabs.setCurrentWidget(t.dashboard.curves_page)  # type: ignore[attr-defined]


def cnn_results(t: Tour) -> None:
    t.dashboard.tabs.setCurrentWidget(t.dashboard.results)  # type: ignore[attr-defined]


def resnet_blocks(t: Tour) -> None:
    if not t.window.open_example(RESNET_EXAMPLE):  # type: ignore[attr-defined]  # File > Open Example
        raise RuntimeError(f"could not open {RESNET_EXAMPLE}")
    t.nodes = {node.name: node.id for node in t.window.document.graph.nodes}  # type: ignore[attr-defined]
    t.select("layer2")  # the stage that starts with BasicBlockDown: its inspector page shows Repeat
    t.show_dock("code")


def block_open(t: Tour) -> None:
    tab = t.window.canvas_tabs.open_instance(t.nodes["layer1"], [])  # type: ignore[attr-defined]  # double-click
    if tab is None:
        raise RuntimeError("could not open BasicBlock")
    t.settle()
    tab.view.fit_all()


def resnet_trained(t: Tour) -> None:
    t.window.canvas_tabs.show_network()  # type: ignore[attr-defined]  # the breadcrumb's "Network"
    t.train(RESNET_EPOCHS)
    t.dashboard.tabs.setCurrentWidget(t.dashboard.results)  # type: ignore[attr-defined]


# --- your own data: the data wizard on a folder of images and on a table, then a short run on the folder ----------
OWN_EPOCHS = 8


def write_image_folder(root: Path) -> Path:
    """A folder as a user brings one: a sub-folder per class, one class smaller, some images in another size."""
    import numpy as np
    from PIL import Image

    from core.datasets.shapes_draw import make_shapes

    x, y, *_ = make_shapes(900, 3, 7)
    counts = {"circles": 240, "squares": 240, "triangles": 80}
    for k, (name, wanted) in enumerate(counts.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i, sample in enumerate(x[y == k][:wanted]):
            image = Image.fromarray((np.asarray(sample).transpose(1, 2, 0) * 255).astype(np.uint8))
            if i % 6 == 5:  # a phone's pictures among the others
                image = image.resize((48, 48))
            image.save(root / name / f"{name[:-1]}_{i:03d}.png")
    return root


def write_table(path: Path) -> Path:
    """A small house-price table: numbers, a category, a gap, an identifier and the price to predict."""
    import numpy as np

    rng = np.random.default_rng(3)
    lines = ["id,rooms,city,area,year,price"]
    for i in range(120):
        rooms, city = int(rng.integers(1, 6)), ["Oslo", "Rome", "Lima", "Pune"][i % 4]
        area = "" if i == 17 else f"{30 + rooms * 18 + rng.normal(0, 6):.1f}"
        price = 40 + rooms * 55 + (30 if city == "Oslo" else 0) + rng.normal(0, 10)
        lines.append(f"H{1000 + i},{rooms},{city},{area},{int(rng.integers(1950, 2024))},{price:.2f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wait_for(t: Tour, ready: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    import time

    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > end:
            raise RuntimeError(f"{what} did not come within {seconds:.0f} s")
        QApplication.processEvents()
        time.sleep(0.01)
    t.settle()


def open_wizard(t: Tour, path: Path) -> object:
    """Data > Open… with ``path`` chosen: the wizard, once it has looked at the data."""
    wizard = t.window.open_data(path)  # type: ignore[attr-defined]
    if wizard is None:
        raise RuntimeError(f"no wizard for {path}: {t.dashboard.panel.data_note.text()}")  # type: ignore[attr-defined]
    wizard.resize(820, 700)  # type: ignore[attr-defined]
    wait_for(t, lambda: wizard.found is not None, f"the survey of {path}")  # type: ignore[attr-defined]
    return wizard


def data_wizard(t: Tour) -> None:
    if not t.window.open_example(RESNET_EXAMPLE):  # type: ignore[attr-defined]  # a network for 32x32 colour images
        raise RuntimeError(f"could not open {RESNET_EXAMPLE}")
    t.picture = open_wizard(t, write_image_folder(t.scratch / "my_shapes"))


def table_wizard(t: Tour) -> None:
    t.picture = open_wizard(t, write_table(t.scratch / "houses.csv"))


def own_data_trained(t: Tour) -> None:
    from gui.training.suggest import batch_for_steps

    if t.picture is not None:
        t.picture.reject()  # type: ignore[attr-defined]  # Cancel: the table was only looked at
        t.picture = None
    wizard = open_wizard(t, t.scratch / "my_shapes")
    dashboard = t.dashboard
    wizard.use_button.click()  # type: ignore[attr-defined]  # Use this data: loaded, then one undo step
    wait_for(t, lambda: not dashboard.panel.data_note.text(), "the folder's data")  # type: ignore[attr-defined]
    graph = t.window.document.graph  # type: ignore[attr-defined]
    last = graph.inputs_of(graph.nodes_of_type("Output")[0].id)[0].src
    problem = t.editor.set_param(last, "out_features", 3)  # three classes: the fix the problem list names
    if problem:
        raise RuntimeError(problem)
    panel = dashboard.panel  # type: ignore[attr-defined]
    panel.augment.flip.setChecked(True)  # augmentation, one undoable edit each
    panel.augment.rotation.setValue(15)
    better = batch_for_steps(panel.preview.train_count)  # the note under Batch size: "Use batch size 4"
    panel.batch_note.linkActivated.emit(f"batch:{better}")
    panel.epochs.setValue(OWN_EPOCHS)
    t.show_dock("training")
    t.train(OWN_EPOCHS)
    dashboard.tabs.setCurrentWidget(dashboard.curves_page)  # type: ignore[attr-defined]


def layer_health(t: Tour) -> None:
    """Why doesn't my network learn: the first example with a learning rate far too high for Adam, its Layer
    health tab (the diagnoses) and relu1's output for one sample (its units no longer fire)."""
    from gui.commands.training import SetTrainingSettings

    t.window.open_example()  # type: ignore[attr-defined]
    document = t.window.document  # type: ignore[attr-defined]
    document.undo_stack.push(SetTrainingSettings(document.project, {"lr": 10.0, "optimizer": "Adam", "epochs": 3}))
    t.show_dock("training")
    t.train(3)
    t.nodes = {node.name: node.id for node in document.graph.nodes}
    t.select("relu1")
    wait_for(t, lambda: t.window.layer_output.output is not None, "relu1's output")  # type: ignore[attr-defined]
    t.dashboard.tabs.setCurrentWidget(t.dashboard.health)  # type: ignore[attr-defined]


# --- your photos on a pretrained network: New from a pretrained network, a new head, a frozen backbone, Try it -------
PRETRAINED = "shufflenet_v2_x0_5"  # one of torchvision's smallest classifiers: 1.4 M parameters run in seconds on a CPU
PRETRAINED_EPOCHS = 6


def pretrained_weights(scratch: Path) -> object:
    """torchvision's weights for PRETRAINED: the real ones where torch's cache has them; else (offline, as where
    these pictures are made) a stand-in served from a file:// URL, the same network randomly initialised, so the
    dialog fetches it as it would the real file, but the figures after training are not ImageNet's."""
    import hashlib
    from functools import partial

    import torch
    import torchvision
    from torchvision.models._api import Weights, WeightsEnum
    from torchvision.transforms._presets import ImageClassification

    from core.pretrained.catalog import cache_path, weights_member

    real = weights_member(PRETRAINED)
    if cache_path(real.url).is_file():
        return real
    print(f"make_screenshots: {cache_path(real.url)} not found; {PRETRAINED} starts from stand-in weights")
    os.environ["TORCH_HOME"] = str(scratch / "torch_home")  # the stand-in never goes into your cache
    torch.manual_seed(0)
    raw = scratch / "weights.pth"
    torch.save(torchvision.models.get_model(PRETRAINED, weights=None).state_dict(), raw)
    served = raw.with_name(f"{PRETRAINED}-{hashlib.sha256(raw.read_bytes()).hexdigest()[:8]}.pth")
    raw.rename(served)
    enum = WeightsEnum(
        "StandIn", {"V1": Weights(served.as_uri(), partial(ImageClassification, crop_size=224), real.meta)}
    )
    return enum.V1  # type: ignore[attr-defined]


def pretrained_list(t: Tour) -> None:
    from gui.panels.gallery import PATH_ROLE, PretrainedDialog

    t.window.open_example()  # type: ignore[attr-defined]
    weights = pretrained_weights(t.scratch)
    dialog = PretrainedDialog(t.window, weights_of=lambda _name: weights)  # type: ignore[arg-type]
    dialog.resize(760, 520)
    dialog.show()
    wait_for(t, lambda: dialog.list.count() > 0, "torchvision's list")
    rows = [dialog.list.item(i).data(PATH_ROLE) for i in range(dialog.list.count())]
    dialog.list.setCurrentRow(rows.index(PRETRAINED))
    dialog.list.scrollToItem(dialog.list.currentItem())
    t.picture = dialog


def pretrained_new_head(t: Tour) -> None:
    """Create, then the photos chosen (the head refitted in the same step) and everything before fc frozen."""
    from gui.panels.gallery import open_pretrained

    dialog = t.picture
    dialog.create()  # type: ignore[attr-defined]
    wait_for(t, lambda: dialog.result_ is not None, f"{PRETRAINED}'s import", 300)  # type: ignore[attr-defined]
    t.picture = None
    open_pretrained(t.window, dialog.result_)  # type: ignore[attr-defined]
    photos = t.scratch / "my_shapes"
    if not photos.is_dir():
        write_image_folder(photos)
    t.dashboard.choose_dataset(f"folder:{photos}")  # type: ignore[attr-defined]
    graph = t.window.document.graph  # type: ignore[attr-defined]
    t.nodes = {node.name: node.id for node in graph.nodes}
    t.editor.freeze_before(t.nodes["fc"])  # the fc node's menu: Freeze everything before this
    t.select("fc")
    t.show_dock("summary")  # Trainable params and Non-trainable params under the table
    print(f"make_screenshots: {t.dashboard.panel.settings_note.text()}")  # type: ignore[attr-defined]


def pretrained_tried(t: Tour) -> None:
    import numpy as np
    from PIL import Image

    from core.datasets.shapes_draw import make_shapes

    t.show_dock("training")
    panel = t.dashboard.panel  # type: ignore[attr-defined]
    panel.batch_note.linkActivated.emit("batch:16")  # the note's "Use batch size 16": 25 updates an epoch
    panel.lr.setText("0.01")  # only the head's 3,075 parameters learn: a bolder rate suits them
    panel.lr.editingFinished.emit()
    t.train(PRETRAINED_EPOCHS)
    x, y, *_ = make_shapes(40, 3, 99)  # a shape drawn afresh: a photo the network never saw
    square = np.asarray(x[np.asarray(y) == 1][0]).transpose(1, 2, 0)
    new = t.scratch / "new_square.png"
    Image.fromarray((square * 255).astype(np.uint8)).resize((96, 96)).save(new)
    tryit = t.dashboard.tryit  # type: ignore[attr-defined]
    t.dashboard.tabs.setCurrentWidget(tryit)  # type: ignore[attr-defined]
    wait_for(t, lambda: tryit.model is not None, "Try it's model")
    tryit.load_image(str(new))
    wait_for(t, lambda: len(tryit.probs) > 0, "Try it's answer")


STEPS: list[tuple[str, Callable[[Tour], None]]] = [
    ("01_first_start", first_start),
    ("02_first_training", first_training),
    ("03_new_project", new_project),
    ("04_missing_flatten", missing_flatten),
    ("05_flatten_added", flatten_added),
    ("06_cnn_trained", cnn_trained),
    ("07_cnn_results", cnn_results),
    ("08_resnet_blocks", resnet_blocks),
    ("09_block_open", block_open),
    ("10_resnet_trained", resnet_trained),
    ("11_data_wizard", data_wizard),
    ("12_table_wizard", table_wizard),
    ("13_own_data_trained", own_data_trained),
    ("14_layer_health", layer_health),
    ("15_pretrained_list", pretrained_list),
    ("16_pretrained_new_head", pretrained_new_head),
    ("17_pretrained_tried", pretrained_tried),
]
FIT = {"09_block_open": False}  # the block's own tab was fitted by its step


def refuse_dialog(title: str, message: str) -> None:
    raise RuntimeError(f"the app wanted to show a dialog: {title}: {message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help="an mnist.npz (Keras layout)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go (default docs/tutorial)")
    parser.add_argument(
        "--start",
        default="01",
        help=(
            f"make the pictures from this step on ({RESNET_STEPS_FROM}: ResNet on, {OWN_DATA_FROM}: your own data, "
            f"{LAYER_HEALTH_FROM}: layer health, {PRETRAINED_FROM}: a pretrained network)"
        ),
    )
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    size = (int(width), int(height))
    mnist = f"npz:{args.mnist.resolve()}" if args.mnist.is_file() else "mnist"
    if mnist == "mnist":
        print(f"make_screenshots: {args.mnist} not found; the CNN steps ask for the mnist download", file=sys.stderr)

    scratch = Path(tempfile.mkdtemp(prefix="torchcanvas-shots-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["TORCHCANVAS_RECOVERY_DIR"] = str(scratch / "recovery")  # no autosaves in the user's folders
    os.environ["TORCHCANVAS_LOG_DIR"] = str(scratch / "logs")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.shell.app import app_icon
    from gui.shell.mainwindow import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("TorchCanvas")
    app.setWindowIcon(app_icon())
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)  # no recent files of yours
    window = MainWindow(settings=settings)
    window.show_error = refuse_dialog  # type: ignore[method-assign]  # offscreen, a dialog would wait forever
    dashboard = window.install_training()
    dashboard.runs_root = scratch / "runs"
    window.resize(*size)
    window.show()
    args.out.mkdir(parents=True, exist_ok=True)
    tour = Tour(window, dashboard, args.out, mnist, scratch)
    for name, step in STEPS:
        if name[:2] < args.start[:2]:
            continue
        step(tour)
        tour.save(name, fit=FIT.get(name, True))
    window.document.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
