# The GitHub Action's image. Docker actions run as root in the runner's
# workspace mount (/github/workspace), so there is no USER: GitHub documents
# that a non-root user cannot write the workspace or the command files.
# No WORKDIR either: the runner sets it to the workspace, as GitHub advises.
FROM python:3.12.8-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY pyproject.toml README.md entrypoint.py /action/
COPY schemas /action/schemas
COPY iter8_action /action/iter8_action
RUN pip install --no-cache-dir /action

ENTRYPOINT ["python", "/action/entrypoint.py"]
