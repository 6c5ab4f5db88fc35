"""HR's and managers' pages: the dashboard, learner table, cohorts, the audit trail and acts
on one learner.
"""
