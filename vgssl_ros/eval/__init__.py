"""Evaluation of the localizer on recorded drives: metrics, plots, offline and live runners."""
