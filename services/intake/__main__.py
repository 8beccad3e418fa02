"""`python -m services.intake`: run one intake process with settings from the environment."""

from libs.common.runner import serve
from services.intake.app import create_app
from services.intake.settings import IntakeSettings

if __name__ == "__main__":
    serve(create_app, IntakeSettings())
