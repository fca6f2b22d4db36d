"""TorchCanvas desktop GUI (PySide6): a view on the core model."""
