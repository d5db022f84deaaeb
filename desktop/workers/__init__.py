"""Background work for the window: each worker is a QObject living in its own QThread and talks
to the GUI thread only through signals."""
