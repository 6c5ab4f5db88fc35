"""The web layer: one blueprint per area, thin views over services."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    from courseware.web.admin.imports import bp as admin_import_bp
    from courseware.web.admin.users import bp as admin_bp
    from courseware.web.common import (
        assets,
        database,
        errors,
        extensions,
        formats,
        health,
        navigation,
        requestlog,
        security,
        sso,
    )
    from courseware.web.common.auth import bp as auth_bp
    from courseware.web.common.main import bp as main_bp
    from courseware.web.common.policy import init_policy
    from courseware.web.hr import dashboard as hr_dashboard
    from courseware.web.hr.audit import bp as hr_audit_bp
    from courseware.web.hr.cohorts import bp as hr_cohorts_bp
    from courseware.web.hr.people import bp as people_bp
    from courseware.web.learner.cases import bp as cases_bp
    from courseware.web.learner.certificates import bp as certificates_bp
    from courseware.web.learner.credentials import bp as credentials_bp
    from courseware.web.learner.learn import bp as learn_bp
    from courseware.web.learner.lesson_fast import install as install_lesson_fast_path
    from courseware.web.learner.notices import bp as notices_bp
    from courseware.web.learner.offline import bp as offline_bp
    from courseware.web.learner.quiz import bp as quiz_bp
    from courseware.web.learner.transcript import bp as transcript_bp
    from courseware.web.studio.author import bp as author_bp
    from courseware.web.studio.author_cases import bp as author_cases_bp
    from courseware.web.studio.editor import bp as studio_bp
    from courseware.web.studio.new import bp as studio_new_bp
    from courseware.web.studio.questions import bp as studio_questions_bp
    from courseware.web.studio.reports import bp as studio_reports_bp
    from courseware.web.studio.review import bp as studio_review_bp

    assets.init_app(app)  # first registered, so it compresses after every other hook
    requestlog.init_app(app)
    database.init_app(app)
    extensions.init_app(app)
    formats.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    navigation.init_app(app)
    init_policy(app)
    sso.init_sso(app)
    for blueprint in (
        main_bp,
        auth_bp,
        sso.bp,
        learn_bp,
        admin_bp,
        quiz_bp,
        author_bp,
        certificates_bp,
        credentials_bp,
        people_bp,
        cases_bp,
        author_cases_bp,
        hr_dashboard.bp,
        hr_cohorts_bp,
        hr_audit_bp,
        transcript_bp,
        notices_bp,
        offline_bp,
        admin_import_bp,
        studio_bp,
        studio_new_bp,
        studio_questions_bp,
        studio_review_bp,
        studio_reports_bp,
    ):
        app.register_blueprint(blueprint)
    warm = (extensions.compile_user_statement, hr_dashboard.prepare_workers)
    database.warm_before_fork(app, extensions.SUPPORTED_LOCALES, also=warm)
    install_lesson_fast_path(app)
