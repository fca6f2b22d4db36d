"""The mouse wheel over a list or number field of the scrolling training form scrolls the form (issue 22): it
changed the optimizer (or the batch size) of whatever field the pointer passed over. A field takes the wheel once
it has the focus (clicked or tabbed into)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

from gui.training.panel import TrainingPanel


def wheel_down(widget: QWidget) -> None:
    """One notch of the wheel, down, over the middle of ``widget`` (delivered as Qt delivers it: the widget
    first, its parents when it does not take it)."""
    local = QPointF(widget.width() / 2, widget.height() / 2)
    spot = QPointF(widget.mapToGlobal(local.toPoint()))
    event = QWheelEvent(
        local,
        spot,
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def scroll_of(widget: QWidget) -> QScrollArea:
    parent = widget.parentWidget()
    while not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent


def short_panel(qtbot) -> TrainingPanel:
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 230)  # the settings column scrolls
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_the_wheel_over_an_unfocused_list_scrolls_the_form(qtbot):
    panel = short_panel(qtbot)
    for field, value in ((panel.optimizer, panel.optimizer.currentText), (panel.batch_size, panel.batch_size.value)):
        scroll = scroll_of(field).verticalScrollBar()
        assert scroll.maximum() > 0, "the form must be taller than its column for this test"
        scroll.setValue(0)
        before = value()
        wheel_down(field)
        assert value() == before, field
        assert scroll.value() > 0, field
        assert field.focusPolicy() == Qt.FocusPolicy.StrongFocus


def test_a_focused_list_takes_the_wheel(qtbot):
    panel = short_panel(qtbot)
    panel.activateWindow()
    panel.optimizer.setFocus()
    qtbot.waitUntil(panel.optimizer.hasFocus)
    before = panel.optimizer.currentIndex()
    wheel_down(panel.optimizer)
    assert panel.optimizer.currentIndex() == before + 1


def test_the_wheel_over_an_inspector_field_scrolls_the_page(window, qtbot):
    from PySide6.QtWidgets import QSpinBox

    from gui.panels.inspector import Inspector

    inspector = Inspector(window.editor)
    qtbot.addWidget(inspector)
    inspector.resize(300, 160)
    inspector.show()
    qtbot.waitExposed(inspector)
    inspector.show_node("n3")  # fc1, a Linear: its sizes are number fields
    spin = next(s for s in inspector.findChildren(QSpinBox) if s.isVisible())
    scroll = inspector.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: scroll.maximum() > 0)
    scroll.setValue(0)
    before = spin.value()
    wheel_down(spin)
    assert spin.value() == before
    assert scroll.value() > 0
