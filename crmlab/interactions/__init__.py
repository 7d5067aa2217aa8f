"""Customer interactions stage: channels, contacts, complaints, feedback sentiment.

Only :mod:`crmlab.interactions.sentiment` exists so far; the stage is assembled later.
"""
