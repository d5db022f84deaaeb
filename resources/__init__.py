"""Data files that ship inside the Hearth package (vocabulary, icons, styles).

A package only so that an installed Hearth finds them with `importlib.resources`; no code
lives here. `build_vocab.py` beside it is a maintenance script, see its docstring.
"""
