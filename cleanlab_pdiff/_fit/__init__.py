"""The estimator's machinery: everything a fit does between the facade and the pure core.

Read ``docs/architecture.md`` for how a fit flows through these modules.
"""
