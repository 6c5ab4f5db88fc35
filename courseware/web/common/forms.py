"""Forms shared by several blueprints. Labels are lazy so they translate per request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from courseware.core.config import ROLES

ROLE_LABELS = {
    "trainee": _l("Trainee"),
    "trainer": _l("Trainer"),
    "manager": _l("Branch manager"),
    "hr": _l("HR"),
    "admin": _l("Administrator"),
}


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=200)])


class ForgotPasswordForm(FlaskForm):
    username = StringField(
        _l("User name or email address"), validators=[DataRequired(), Length(max=254)]
    )


class PasswordResetForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=200)])


class AccountForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    employee_id = StringField(_l("Employee id"), validators=[Optional(), Length(max=32)])
    branch = StringField(_l("Branch"), validators=[Optional(), Length(max=64)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("First password"), validators=[Optional(), Length(max=200)])
