"""TorchCanvas core: graph, layer catalog, shapes, code generation, training. Never imports Qt."""

__version__ = "0.1.0"
