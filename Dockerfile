# The GitHub Action's image. Docker actions run as root in the runner's
# workspace mount (/github/workspace), so there is no USER: GitHub documents
# that a non-root user cannot write the workspace or the command files.
# No WORKDIR either: the runner sets it to the workspace, as GitHub advises.
FROM python:3.12.8-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A regular (non-editable) install from a scratch copy of the sources, removed
# afterwards: the entrypoint's directory holds nothing else, so Python imports
# the installed package (with its bundled schemas), never a source tree.
COPY pyproject.toml README.md /tmp/iter8-py/
COPY schemas /tmp/iter8-py/schemas
COPY iter8_action /tmp/iter8-py/iter8_action
RUN pip install --no-cache-dir /tmp/iter8-py && rm -rf /tmp/iter8-py
COPY entrypoint.py /action/entrypoint.py

ENTRYPOINT ["python", "/action/entrypoint.py"]
