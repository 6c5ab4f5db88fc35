"""The trainer's pages: the studio (edit, review, publish), question banks, case calibration
and guides.
"""
