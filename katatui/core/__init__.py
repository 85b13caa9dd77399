"""The core: profiles, plans, transports, launchers, workloads, engine and sessions.

Nothing in here knows about a screen; the headless CLI and the TUI are both clients of it.
"""
