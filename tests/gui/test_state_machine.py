"""Random sequences of edit commands: after every step the scene mirrors the model one to one, and undoing
everything gives back the initial project exactly."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from core.cli import DEFAULT_EXAMPLE
from core.errors import TorchCanvasError
from core.files import project as project_io
from core.model.node import Edge
from gui.canvas.editor import Editor
from gui.canvas.items import NodeItem, WireItem
from gui.canvas.scene import GraphScene
from gui.commands import graph as commands
from gui.shell.document import Document

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

LAYERS = ["Linear", "ReLU", "Dropout", "Add", "Concat", "Flatten", "Conv2d", "Output"]
PARAMS = {
    "Linear": ("out_features", [1, 10, 64]),
    "Dropout": ("p", [0.0, 0.3]),
    "Add": ("num_inputs", [2, 3]),
    "Concat": ("num_inputs", [2, 3]),
    "Conv2d": ("out_channels", [4, 8]),
}


@pytest.fixture(scope="module", autouse=True)
def _qapp(qapp):
    return qapp


class EditorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.document = Document()
        self.document.open_copy(DEFAULT_EXAMPLE)
        self.scene = GraphScene(self.document.graph)
        self.editor = Editor(self.document, self.scene)
        self.document.analyzed.connect(self.scene.set_analysis)
        self.start = project_io.dumps(self.document.project)

    @property
    def graph(self):
        return self.document.graph

    def pick(self, data, items):
        return data.draw(st.sampled_from(items))

    @rule(layer=st.sampled_from(LAYERS), x=st.integers(-500, 1500), y=st.integers(-500, 500))
    def add(self, layer, x, y):
        self.editor.add_layer(layer, (float(x), float(y)))

    @precondition(lambda self: len(self.graph) > 0)
    @rule(data=st.data())
    def remove(self, data):
        node = self.pick(data, self.graph.nodes)
        self.editor.delete([node.id])

    @precondition(lambda self: len(self.graph) > 1)
    @rule(data=st.data())
    def connect(self, data):
        src = self.pick(data, [n for n in self.graph.nodes if n.output_count()] or self.graph.nodes)
        dst = self.pick(data, self.graph.nodes)
        port = data.draw(st.integers(0, 2))
        edge = Edge(src.id, dst.id, port)
        before = len(self.graph.edges)
        occupied = commands.occupant(self.graph, edge) is not None  # a wire there is replaced, not added to
        reason = self.editor.connect(edge)
        if reason is None:
            assert edge in self.graph.edges and len(self.graph.edges) == before + (not occupied)
        else:
            assert len(self.graph.edges) == before

    @precondition(lambda self: len(self.graph.edges) > 0)
    @rule(data=st.data())
    def disconnect(self, data):
        self.editor.disconnect(self.pick(data, self.graph.edges))

    @precondition(lambda self: any(n.type in PARAMS for n in self.graph.nodes))
    @rule(data=st.data())
    def set_parameter(self, data):
        node = self.pick(data, [n for n in self.graph.nodes if n.type in PARAMS])
        name, values = PARAMS[node.type]
        self.editor.set_param(node.id, name, data.draw(st.sampled_from(values)))

    @precondition(lambda self: len(self.graph) > 0)
    @rule(data=st.data(), dx=st.integers(-300, 300), dy=st.integers(-300, 300))
    def move(self, data, dx, dy):
        node = self.pick(data, self.graph.nodes)
        self.editor.move({node.id: (node.pos, (node.pos[0] + dx, node.pos[1] + dy))})

    # --- blocks: make, ungroup, repeat, and an edit inside a definition (every one an undo step) ---------------
    @precondition(lambda self: any(n.type not in ("Input", "Output") for n in self.graph.nodes))
    @rule(data=st.data())
    def make_block(self, data):
        layers = [n.id for n in self.graph.nodes if n.type not in ("Input", "Output")]
        chosen = data.draw(st.lists(st.sampled_from(layers), min_size=1, max_size=3, unique=True))
        before = self.document.undo_stack.index()
        reason = self.editor.make_block(chosen)
        assert self.document.undo_stack.index() == before + (reason is None)

    @rule(name=st.sampled_from(["BasicBlock", "VGGBlock", "BasicBlockDown"]), x=st.integers(-500, 1500))
    def add_builtin_block(self, name, x):
        had = set(self.graph.blocks)
        node = self.editor.add_block(name, (float(x), 300.0))
        assert node is not None and node.block == name and had <= set(self.graph.blocks)

    @precondition(lambda self: any(n.block for n in self.graph.nodes))
    @rule(data=st.data())
    def ungroup(self, data):
        self.editor.ungroup(self.pick(data, [n.id for n in self.graph.nodes if n.block]))

    @precondition(lambda self: any(n.block and n.ports == (1, 1) for n in self.graph.nodes))
    @rule(data=st.data(), count=st.integers(1, 3))
    def repeat(self, data, count):
        node = self.pick(data, [n for n in self.graph.nodes if n.block and n.ports == (1, 1)])
        assert self.editor.set_repeat(node.id, count) is None
        assert self.graph.node(node.id).repeat == count

    @precondition(lambda self: any(n.type in PARAMS for d in self.graph.blocks.values() for n in d.graph.nodes))
    @rule(data=st.data())
    def edit_definition(self, data):
        inner = [(d, n) for d in self.graph.blocks.values() for n in d.graph.nodes if n.type in PARAMS]
        defn, node = self.pick(data, inner)
        name, values = PARAMS[node.type]
        try:
            command = commands.set_param(defn.graph, node.id, name, data.draw(st.sampled_from(values)))
        except TorchCanvasError:
            return
        self.document.undo_stack.push(command)

    @rule()
    def undo(self):
        self.document.undo_stack.undo()

    @rule()
    def redo(self):
        self.document.undo_stack.redo()

    @invariant()
    def scene_mirrors_model(self):
        graph, scene = self.graph, self.scene
        self.document.refresh()  # shapes and errors onto the items, as the 0 ms timer would
        assert list(scene.nodes) == [n.id for n in graph.nodes] or set(scene.nodes) == {n.id for n in graph.nodes}
        assert set(scene.wires) == set(graph.edges)
        node_items = [i for i in scene.items() if isinstance(i, NodeItem)]
        wire_items = [i for i in scene.items() if isinstance(i, WireItem)]
        assert len(node_items) == len(graph) and len(wire_items) == len(graph.edges)
        for node in graph.nodes:
            item = scene.nodes[node.id]
            assert (item.pos().x(), item.pos().y()) == node.pos
            assert item.name == node.name
            assert len(item.inputs) == node.input_count()
        for edge, wire in scene.wires.items():
            assert wire.src is scene.nodes[edge.src] and wire.dst is scene.nodes[edge.dst]
            assert wire in wire.src.wires and wire in wire.dst.wires
            info = self.document.analysis.nodes.get(edge.src)
            assert (wire.label != "") == (info is not None and info.out_shape is not None)

    def teardown(self):
        stack = self.document.undo_stack
        while stack.canUndo():
            stack.undo()
        assert project_io.dumps(self.document.project) == self.start
        self.scene_mirrors_model()
        self.document.analyzed.disconnect(self.scene.set_analysis)
        self.scene.set_graph(None)


EditorMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestEditorMachine = EditorMachine.TestCase
