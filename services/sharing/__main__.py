"""`python -m services.sharing`: run one sharing process with settings from the environment."""

from libs.common.runner import serve
from services.sharing.app import create_app
from services.sharing.settings import SharingSettings

if __name__ == "__main__":
    serve(create_app, SharingSettings())
