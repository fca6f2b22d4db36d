"""A node's context menu: Trainable (freeze or unfreeze it, or the selection it belongs to) and "Freeze everything
before this", the one click that freezes a pretrained backbone in front of a new head.

Every entry calls the editor (one undo step each); the view only opens the menu.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from gui.canvas.editor import Editor


def node_menu(editor: Editor, node_id: str, parent: QWidget | None = None) -> QMenu:
    """The menu for ``node_id``: its actions are named ``trainable`` and ``freeze_before`` (tests trigger them)."""
    graph = editor.graph
    node = graph.node(node_id)
    selected = editor.scene.selected_node_ids()
    targets = selected if node_id in selected else [node_id]
    menu = QMenu(parent)
    trainable = QAction("Trainable", menu)
    trainable.setObjectName("trainable")
    trainable.setCheckable(True)
    trainable.setChecked(node.trainable)
    many = f" ({len(targets)} selected)" if len(targets) > 1 else ""
    trainable.setStatusTip(f"Off: the weights of {node.name}{many} stay as they are while training (frozen).")
    trainable.toggled.connect(lambda on: editor.set_trainable(targets, on))
    menu.addAction(trainable)
    before = QAction("Freeze everything before this", menu)
    before.setObjectName("freeze_before")
    count = sum(1 for nid in editor.frozen_before(node_id) if graph.node(nid).trainable)
    before.setEnabled(count > 0)
    before.setStatusTip(
        f"Freeze the {count} layer{'s' if count != 1 else ''} with weights that feed {node.name} (one undo step): "
        "a pretrained backbone keeps its weights and only what follows trains."
    )
    before.triggered.connect(lambda: editor.freeze_before(node_id))
    menu.addAction(before)
    return menu
