"""Issues & Insights Tracker: the API, the worker and the `tracker` command."""

__version__ = "0.1.0"
