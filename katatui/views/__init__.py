"""Everything that renders, shared by the command line, the dashboard and the files they write.

Views sit between the front ends (:mod:`katatui.commands`, :mod:`katatui.tui`) and
:mod:`katatui.core`: they turn what the core computes into Rich renderables, text, Markdown, CSV,
JSON or HTML. They import the core and Rich, never Textual, the commands or the screens.
"""
