"""The booked video conversation itself: its deadlines (``deadlines.py``), how the clock moves it
(``lifecycle.py``), the operator's moves during the call (``actions.py``) and the live panel.

Called *conversations* (the product's word), not *sessions*, so it never reads like Flask's ``session``.
"""
