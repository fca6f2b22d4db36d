"""The app shell: start-up, main window, menus and actions, the open document, autosave and recovery."""
