"""Pure computations (pandas/numpy in, results out): ROI model, features, explanations.

No Dash, Redis, SQLAlchemy or I/O in here, so the models can be run on any outside data.
"""
