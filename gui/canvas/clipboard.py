"""The canvas clipboard: copy, cut, paste and duplicate layers with the wires between them.

The clipboard holds the chosen layers as project JSON (``CLIPBOARD_MIME``, and as text), so a paste into another
window or project rebuilds them with fresh ids and names. ``Editor`` (gui.canvas.editor) mixes this in: it owns the
graph, the scene and the undo stack these methods work on."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from core.errors import TorchCanvasError
from core.model.catalog import get_spec
from core.model.node import Edge, Node, validate_params
from gui.commands import graph as commands

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QUndoCommand

    from core.model.graph import Graph
    from gui.canvas.host import CanvasDocument
    from gui.canvas.scene import GraphScene

CLIPBOARD_MIME = "application/x-torchcanvas-nodes"


class EditorClipboard:
    """The clipboard half of ``Editor``: the attributes and methods below are the editor's."""

    document: CanvasDocument
    scene: GraphScene
    placed: SignalInstance
    push: Callable[[QUndoCommand], None]
    _refuse: Callable[[str], str]

    if TYPE_CHECKING:

        @property
        def graph(self) -> Graph: ...  # the graph the editor edits (``Editor.graph``)

    def copy_selection(self) -> int:
        ids = self.scene.selected_node_ids()
        if not ids:
            return 0
        mime = QMimeData()
        text = json.dumps(self._selection_data(ids))
        mime.setData(CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        _release_clipboard_on_quit()
        return len(ids)

    def cut_selection(self) -> None:
        if self.copy_selection():
            ids = self.scene.selected_node_ids()
            self.push(commands.delete_items(self.graph, ids, []))
            self.document.undo_stack.command(self.document.undo_stack.index() - 1).setText(f"Cut {len(ids)} layers")

    def paste(self, offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(CLIPBOARD_MIME):
            self._refuse("Nothing to paste: copy some layers first.")
            return []
        try:
            data = json.loads(bytes(mime.data(CLIPBOARD_MIME).data()).decode("utf-8"))
            return self.paste_data(data, offset)
        except (ValueError, KeyError, TypeError, TorchCanvasError) as exc:
            self._refuse(f"Could not paste: {exc}")
            return []

    def paste_data(self, data: dict[str, Any], offset: tuple[float, float]) -> list[str]:
        new_ids: dict[str, str] = {}
        created: list[Node] = []
        shadow = self.graph.copy()  # to hand out ids and names that do not clash with each other
        for item in data["nodes"]:
            name = item["name"] if shadow.by_name(item["name"]) is None else None
            pos = (float(item["pos"][0]) + offset[0], float(item["pos"][1]) + offset[1])
            node = shadow.create_node(item["type"], pos, name, item.get("params", {}))
            node.params = dict(item.get("params", {}))
            node.params = validate_params(get_spec(node.type), node.params, node.name)
            shadow.add_node(node.copy())
            new_ids[item["id"]] = node.id
            created.append(node)
        if not created:
            return []
        edges = [Edge(new_ids[e["src"]], new_ids[e["dst"]], e["dst_port"], e["src_port"]) for e in data["edges"]]
        self.push(commands.paste(self.graph, created, edges))
        self.scene.select_nodes([n.id for n in created])
        self.placed.emit([n.id for n in created])
        return [n.id for n in created]

    def duplicate_selection(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        return self.paste_data(self._selection_data(ids), (40.0, 40.0))

    def _selection_data(self, ids: list[str]) -> dict[str, Any]:
        """The chosen layers and the wires between them, as copy puts on the clipboard and duplicate pastes."""
        chosen = set(ids)
        full = self.graph.to_dict()
        return {
            "nodes": [full["nodes"][self.graph.index_of(nid)] for nid in ids],
            "edges": [
                {"src": e.src, "src_port": e.src_port, "dst": e.dst, "dst_port": e.dst_port}
                for e in self.graph.edges
                if e.src in chosen and e.dst in chosen
            ],
        }


def release_clipboard() -> None:
    """Drop clipboard data we own. Qt deletes the clipboard's QMimeData while tearing the application down, after
    Python has started finalising, and that segfaults the process at exit (seen with PySide6 6.11 offscreen)."""
    app = QGuiApplication.instance()
    if app is not None:
        clipboard = QGuiApplication.clipboard()
        if clipboard.ownsClipboard() or clipboard.mimeData() is not None:
            clipboard.clear()


def _release_clipboard_on_quit() -> None:
    app = QGuiApplication.instance()
    if app is not None and not app.property("torchcanvas_releases_clipboard"):
        app.setProperty("torchcanvas_releases_clipboard", True)
        app.aboutToQuit.connect(release_clipboard)
