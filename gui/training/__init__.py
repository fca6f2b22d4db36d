"""The training dashboard: settings, live curves, results and runs, driving ``core.training`` in a QThread.

``MainWindow.install_training()`` docks it into the editor's main window: ``window.install(host)`` with the
``host.DashboardHost`` the window builds.
"""
