"""Evaluation: outcome classes, fit to the input, token accuracy, the report and listening tests."""
