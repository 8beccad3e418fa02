"""`python -m services.intake`: run one intake process with settings from the environment."""

from libs.common import db
from libs.common.runner import serve
from services.intake.app import create_app
from services.intake.settings import IntakeSettings

if __name__ == "__main__":
    # A long-lived process: its start-up migration runs in a child (`db.MIGRATE_IN_CHILD`).
    db.MIGRATE_IN_CHILD = True
    serve(create_app, IntakeSettings())
