"""Hearth's icons (SVG), used for the window icon."""
