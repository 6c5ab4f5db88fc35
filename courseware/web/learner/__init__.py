"""The trainee's pages: lessons, practice, quizzes, loan cases, certificates and the
transcript.
"""
