"""Every user edit as one ``QUndoCommand``, in one place; ``redo``/``undo`` call only the model.

- ``gui.commands.base``: ``Command`` (children kept in Python) and ``MacroCommand`` (a named group of children).
- ``gui.commands.graph``: nodes, wires, parameters, names and positions of a ``core.model.graph.Graph``, and the
  compound edits built from them (replace a wire, re-route a wire, delete a selection).
- ``gui.commands.blocks``: make block, ungroup, repeat, expose an argument, add a block with its definitions.
- ``gui.commands.training``: ``SetTrainingSettings`` (a project's training settings; one field's edits merge).

Callers (``gui.canvas.editor``, the canvas modes, the training panel) check an edit is allowed before pushing it.
"""
