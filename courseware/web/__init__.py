"""The web layer: one blueprint per area, thin views over services."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    from courseware.web import (
        assets,
        database,
        errors,
        extensions,
        navigation,
        requestlog,
        security,
    )
    from courseware.web.admin import bp as admin_bp
    from courseware.web.admin_import import bp as admin_import_bp
    from courseware.web.auth import bp as auth_bp
    from courseware.web.author import bp as author_bp
    from courseware.web.author_cases import bp as author_cases_bp
    from courseware.web.cases import bp as cases_bp
    from courseware.web.certificates import bp as certificates_bp
    from courseware.web.certificates import init_policy
    from courseware.web.hr import bp as hr_bp
    from courseware.web.hr_audit import bp as hr_audit_bp
    from courseware.web.hr_cohorts import bp as hr_cohorts_bp
    from courseware.web.learn import bp as learn_bp
    from courseware.web.main import bp as main_bp
    from courseware.web.people import bp as people_bp
    from courseware.web.quiz import bp as quiz_bp
    from courseware.web.studio import bp as studio_bp
    from courseware.web.studio_new import bp as studio_new_bp
    from courseware.web.studio_questions import bp as studio_questions_bp
    from courseware.web.studio_reports import bp as studio_reports_bp
    from courseware.web.studio_review import bp as studio_review_bp
    from courseware.web.transcript import bp as transcript_bp

    assets.init_app(app)  # first registered, so it compresses after every other hook
    requestlog.init_app(app)
    database.init_app(app)
    extensions.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    init_policy(app)
    for blueprint in (
        main_bp,
        auth_bp,
        learn_bp,
        admin_bp,
        quiz_bp,
        author_bp,
        certificates_bp,
        people_bp,
        cases_bp,
        author_cases_bp,
        hr_bp,
        hr_cohorts_bp,
        hr_audit_bp,
        transcript_bp,
        admin_import_bp,
        studio_bp,
        studio_new_bp,
        studio_questions_bp,
        studio_review_bp,
        studio_reports_bp,
    ):
        app.register_blueprint(blueprint)
