"""Workloads: the argument lists katatui runs and parsers for what the tools print."""
