"""The quiz engine: question banks, a question-type registry, drawing, grading, statistics.

Nothing here imports Flask. Functions take a Session and values and return
plain data; the web layer (courseware.web.learner.quiz, courseware.web.studio.author) only
reads requests and renders.
"""
