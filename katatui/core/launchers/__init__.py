"""Launchers start a workload's client process under a scenario: bare on the host or in a container."""
