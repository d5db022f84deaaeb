"""This machine and its rules: the organisation's policy, the zero-egress guard, hardware
detection and the fit planner, and where Hearth keeps its files."""
