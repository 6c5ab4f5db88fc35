"""Administrators import accounts from a CSV file: every bad line named, or all imported."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from courseware.hr import people_import
from courseware.web.common.access import roles_required
from courseware.web.common.database import db_session

bp = Blueprint("admin_import", __name__, url_prefix="/admin/import")


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired()])


@bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def upload():
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        data = form.file.data.read(people_import.MAX_BYTES + 1)
        session = db_session()
        result = people_import.import_people(session, data, current_user.id)
        if result.ok:
            session.commit()
        else:
            session.rollback()
    status = 400 if form.errors or (result and not result.ok) else 200
    return render_template(
        "admin/import/upload.html",
        form=form,
        result=result,
        columns=people_import.COLUMNS,
        max_rows=people_import.MAX_ROWS,
    ), status
