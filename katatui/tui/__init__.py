"""The live dashboard: a Textual client of the engine's events (the core never imports it)."""
