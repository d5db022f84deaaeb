"""Hearth's Qt stylesheets (light.qss, dark.qss), loaded by desktop/theme.py."""
