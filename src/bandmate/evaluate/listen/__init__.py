"""`bandmate listen`: a local web app for blind listening tests on an evaluation report.

report.py reads the report and builds the trials, store.py keeps the ratings in SQLite,
stats.py summarizes them, pages.py renders the HTML and app.py serves it all.
"""
