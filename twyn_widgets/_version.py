"""The package's version, ``twyn_widgets.__version__`` (equal to ``pyproject.toml``'s)."""

__version__ = "0.1.0"
