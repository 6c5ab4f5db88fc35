"""The trainer studio's forms. Labels are lazy so they translate per request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from courseware.assessment.questions import TYPES
from courseware.content.schemas import SLUG_PATTERN
from courseware.studio.problem_reports import MAX_NOTE

MAX_TEXT = 400_000
TYPE_LABELS = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "true_false": _l("True or false"),
    "numeric": _l("Number"),
    "ordering": _l("Put in order"),
}


def _slug(label: str) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(SLUG_PATTERN, message=_l("Use lower-case letters, digits and hyphens only.")),
        ],
    )


class EditForm(FlaskForm):
    text = TextAreaField(_l("File text"), validators=[Length(max=MAX_TEXT)])
    base = HiddenField(validators=[InputRequired()])
    note = StringField(_l("What changed (for the history)"), validators=[Length(max=500)])
    material = BooleanField(
        _l("Material change: learners who finished this lesson see it marked as updated")
    )


class BaseForm(FlaskForm):
    """A button that acts on a document: it carries the revision the page showed."""

    base = HiddenField(validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Length(max=500)])


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment for the author"), validators=[Length(max=2000)])


class NewLessonForm(FlaskForm):
    module = SelectField(_l("Module"), validators=[DataRequired()])
    slug = _slug(_l("Lesson slug"))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    order = IntegerField(
        _l("Place in the module"), validators=[InputRequired(), NumberRange(1, 99)]
    )
    minutes = IntegerField(
        _l("Minutes to read"), default=15, validators=[InputRequired(), NumberRange(1, 600)]
    )
    publish = BooleanField(_l("Publish at once (otherwise it is kept as a draft)"))


class NewModuleForm(FlaskForm):
    slug = _slug(_l("Module slug"))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    order = IntegerField(
        _l("Place in the course"), validators=[InputRequired(), NumberRange(1, 99)]
    )
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=600)])
    objectives = TextAreaField(
        _l("What learners will be able to do (one per line)"),
        validators=[DataRequired(), Length(max=3000)],
    )
    estimated_minutes = IntegerField(
        _l("Minutes for the whole module"),
        default=60,
        validators=[InputRequired(), NumberRange(1, 6000)],
    )
    lesson_slug = _slug(_l("First lesson: slug"))
    lesson_title = StringField(
        _l("First lesson: title"), validators=[DataRequired(), Length(max=120)]
    )
    publish = BooleanField(_l("Publish at once (otherwise both are kept as drafts)"))


class QuestionEditForm(FlaskForm):
    id = StringField(
        _l("Question id"),
        validators=[Optional(), Length(max=64)],
    )
    type = SelectField(
        _l("Type"), choices=[SelectChoice(name, TYPE_LABELS[name]) for name in TYPES]
    )
    lesson = SelectField(_l("Lesson to review"))
    prompt = TextAreaField(_l("Question"), validators=[Length(max=2000)])
    # The choices come as rows (choice_id, choice_key, choice_text, choice_right), read by
    # the view: a row can be added or removed with or without the page's script.
    answer = StringField(_l("Right answer (a number)"), validators=[Length(max=200)])
    truth = SelectField(
        _l("The statement is"),
        choices=[
            SelectChoice("", "—"),
            SelectChoice("true", _l("True")),
            SelectChoice("false", _l("False")),
        ],
        validate_choice=False,  # question_data says "must be true or false" at the field
    )
    tolerance = StringField(
        _l("Tolerance (numbers: accepted difference)"), validators=[Length(max=40)]
    )
    unit = StringField(_l("Unit (numbers)"), validators=[Length(max=20)])
    items = TextAreaField(
        _l("Steps in the right order (one per line)"), validators=[Length(max=5000)]
    )
    explanation = TextAreaField(_l("Explanation"), validators=[Length(max=2000)])
    retired = BooleanField(_l("Retired: no longer drawn; past attempts and statistics keep it"))
    base = HiddenField(validators=[InputRequired()])
    note = StringField(_l("What changed (for the history)"), validators=[Length(max=500)])


class ReportForm(FlaskForm):
    note = TextAreaField(
        _l("What is wrong or unclear?"), validators=[DataRequired(), Length(max=MAX_NOTE)]
    )
    revision = HiddenField()
    page = HiddenField()
    attempt = HiddenField()
    question = SelectField(_l("Which question? (optional)"), choices=[], validate_choice=False)


class ResolveForm(FlaskForm):
    resolved = HiddenField()
