"""The training dashboard: settings, live curves, results and runs, driving ``core.training`` in a QThread.

``install(window)`` (in ``dashboard``) docks it into the editor's main window.
"""
