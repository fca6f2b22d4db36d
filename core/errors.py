"""One family of errors, each carrying a plain-language message a beginner can act on."""

from __future__ import annotations


class TorchCanvasError(Exception):
    """Base of every error TorchCanvas shows to a user; str(error) is the whole message."""


class GraphError(TorchCanvasError):
    """A structural problem in the graph, tied to the node it concerns (if any)."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class CycleError(GraphError):
    """Connecting would make data flow in a circle."""


class PortAlreadyConnectedError(GraphError):
    """An input port accepts one wire only."""


class SelfConnectionError(GraphError):
    """A node cannot feed itself."""


class PortError(GraphError):
    """The port does not exist on that node."""


class UnknownLayerError(GraphError):
    """A node names a layer type the catalog does not know."""


class InvalidNameError(GraphError):
    """A user-chosen name cannot be used as a Python identifier in generated code."""


class ShapeError(GraphError):
    """A layer cannot accept the tensor shape that reaches it."""


class ParameterError(GraphError):
    """A parameter value is of the wrong type or out of range."""


class ProjectLoadError(TorchCanvasError):
    """A project file could not be read; the message names the file and the field."""

    def __init__(self, message: str, path: str | None = None, field: str | None = None) -> None:
        where = f"{path}: " if path else ""
        at = f" (at {field})" if field else ""
        super().__init__(f"{where}{message}{at}")
        self.path = path
        self.field = field
        self.unexpected = False  # True: a validator failed in a way nobody foresaw (a bug; the tests forbid it)


class ProjectSaveError(TorchCanvasError):
    """A project file could not be written; the old file is untouched."""


class ExportError(TorchCanvasError):
    """The model cannot be exported in the chosen format; the message names the layer (if any) and why."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class DataError(TorchCanvasError):
    """A dataset could not be loaded or used; the message names the file (and row) and the fix."""


class TrainingError(TorchCanvasError):
    """Training cannot start or cannot go on (a bad setting, a shape the data does not fit, a lost device)."""
