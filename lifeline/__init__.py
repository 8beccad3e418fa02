"""The lifeline command, the embedded network and its supervisor."""

from libs.common.lean import skip_httpx_cli

# First thing in every process of the package: before anything imports httpx.
skip_httpx_cli()
