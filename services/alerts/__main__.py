"""`python -m services.alerts`: run one alerts process with settings from the environment."""

from libs.common import db
from libs.common.runner import serve
from services.alerts.app import create_app
from services.alerts.settings import AlertsSettings

if __name__ == "__main__":
    # A long-lived process: its start-up migration runs in a child (`db.MIGRATE_IN_CHILD`).
    db.MIGRATE_IN_CHILD = True
    serve(create_app, AlertsSettings())
