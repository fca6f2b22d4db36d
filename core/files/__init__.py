"""Files: the project format and its migrations, recovery, atomic writes, exports and weights."""
