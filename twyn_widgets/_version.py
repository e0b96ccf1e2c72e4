"""The package's version, in one place (read by ``pyproject.toml`` and ``twyn_widgets.__version__``)."""

__version__ = "0.1.0"
