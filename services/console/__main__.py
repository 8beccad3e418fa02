"""`python -m services.console`: run one console process with settings from the environment."""

from libs.common.runner import serve
from services.console.app import create_app
from services.console.settings import ConsoleSettings

if __name__ == "__main__":
    serve(create_app, ConsoleSettings())
