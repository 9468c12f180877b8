"""install commands (see the module docstring once written)."""
