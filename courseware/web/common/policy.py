"""The certification policy of settings.yaml, loaded once per app and read by every view."""

from __future__ import annotations

from flask import Flask, current_app

from courseware.certification.policy import Policy, load_policy

KEY = "courseware.certification.policy"


def init_policy(app: Flask) -> None:
    app.extensions[KEY] = load_policy(app.config.get("SETTINGS_FILE"))


def policy() -> Policy:
    return current_app.extensions[KEY].policy
