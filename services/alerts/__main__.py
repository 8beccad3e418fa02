"""`python -m services.alerts`: run one alerts process with settings from the environment."""

from libs.common.runner import serve
from services.alerts.app import create_app
from services.alerts.settings import AlertsSettings

if __name__ == "__main__":
    serve(create_app, AlertsSettings())
