"""The ``matneo`` command-line tool."""
