"""The code view's Keras tab: the same network as Keras 3 code beside the PyTorch code, the one message when
TorchCanvas does not translate some layers to Keras, and Copy/Export acting on the tab shown."""

from pathlib import Path

from PySide6.QtGui import QGuiApplication

from gui.training import actions
from tests.conftest import EXAMPLES


def _open(window, name: str) -> None:
    assert window.open_example(EXAMPLES / name)


def test_keras_tab_shows_the_same_network_and_follows_edits(window):
    code = window.code_view
    assert [code.tabs.tabText(i) for i in range(code.tabs.count())] == ["PyTorch", "Keras"]
    assert code.keras_text() == ""  # generated only once the tab is shown
    code.tabs.setCurrentIndex(code.KERAS)
    assert "def build_model() -> keras.Model:" in code.keras_text()
    assert 'layers.Dense(128, name="fc1")' in code.keras_text()
    assert "Keras 3 model" in code.status.text() and code.export_button.isEnabled()
    window.editor.set_param(window.document.graph.by_name("fc1").id, "out_features", 96)
    window.document.refresh()
    assert 'layers.Dense(96, name="fc1")' in code.keras_text()  # the shown tab follows the edit
    code.tabs.setCurrentIndex(code.PYTORCH)
    assert "PyTorch model" in code.status.text()
    assert "class Net(nn.Module)" in code.text()


def test_keras_tab_names_the_layers_keras_lacks_in_one_message(window):
    _open(window, "resnet18.json")
    code = window.code_view
    code.tabs.setCurrentIndex(code.KERAS)
    text = code.keras_text()
    assert text.startswith("# 5 layers have no Keras translation")
    assert "- layer1 (Block): TorchCanvas does not translate blocks to Keras yet" in text
    assert "TorchCanvas does not translate 5 layers of this network to Keras yet." in code.status.text()
    assert not code.copy_button.isEnabled() and not code.export_button.isEnabled()
    code.tabs.setCurrentIndex(code.PYTORCH)  # the PyTorch code is unaffected
    assert code.export_button.isEnabled() and "class Net(nn.Module)" in code.text()


def test_copy_and_export_act_on_the_keras_tab(window, tmp_path: Path, monkeypatch):
    _open(window, "mnist_mlp.json")
    code = window.code_view
    code.tabs.setCurrentIndex(code.KERAS)
    code.copy()
    assert QGuiApplication.clipboard().text() == code.keras_source
    target = tmp_path / "mnist_mlp_keras.py"
    messages = []
    monkeypatch.setattr(actions, "ask_save_path", lambda parent, title, suggested, filters: str(target))
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    code.export_button.click()
    assert target.is_file(), messages
    assert "def compile_model(model: keras.Model)" in code.keras_text()  # the project's loss and optimizer
    assert "keras.optimizers.RMSprop(learning_rate=0.001, rho=0.99, epsilon=1e-8)" in code.keras_text()
    assert "# model.fit(x_train, y_train, batch_size=128, epochs=5" in code.keras_text()
    script = target.read_text(encoding="utf-8")
    assert "model.fit(" in script and "keras.optimizers.RMSprop(" in script
