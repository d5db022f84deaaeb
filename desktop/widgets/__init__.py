"""The window's widgets, one per file. None of them touches the engine or the database."""
