"""``fastnn report``: a Markdown report with figures, generated only from results files
(:func:`build`); the figures are in :mod:`fastnn.report.figures`."""

from .build import build, crossover, fit_scaling, load_results

__all__ = ["build", "crossover", "fit_scaling", "load_results"]
