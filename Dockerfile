# The GitHub Action's image (and the GitLab component's). Docker actions run as
# root in the runner's workspace mount (/github/workspace), so there is no USER:
# GitHub documents that a non-root user cannot write the workspace or the
# command files. No WORKDIR either: the runner sets it to the workspace, as
# GitHub advises.
#
# Two stages: the build stage installs the pinned dependencies (requirements.lock,
# every file checked against its sha256) and the package, built by the pinned
# build backend (requirements-build.lock) in a venv of its own, into a virtual
# environment; the image copies only that environment, without pip, the build
# backend or the sources.
FROM python:3.12.8-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/iter8 && python -m venv /tmp/build-backend
COPY requirements.lock requirements-build.lock /tmp/iter8-py/
RUN /opt/iter8/bin/pip install --require-hashes --no-deps -r /tmp/iter8-py/requirements.lock \
    && /tmp/build-backend/bin/pip install --require-hashes --no-deps \
       -r /tmp/iter8-py/requirements-build.lock
# A regular (non-editable) install: Python imports the installed package (with its
# bundled schemas), never a source tree.
COPY pyproject.toml README.md /tmp/iter8-py/
COPY schemas /tmp/iter8-py/schemas
COPY iter8_action /tmp/iter8-py/iter8_action
# The version `iter8 version` prints; the release passes the tag's (1.2.3). The
# build context has no git history, so a plain build gets hatch-vcs's fallback.
# Declared here, so that another version reuses the dependency layer above.
ARG VERSION=0.0.0
RUN SETUPTOOLS_SCM_PRETEND_VERSION="$VERSION" /tmp/build-backend/bin/pip wheel --no-deps \
       --no-build-isolation --wheel-dir /tmp/wheel /tmp/iter8-py \
    && /opt/iter8/bin/pip install --no-deps --no-index /tmp/wheel/*.whl \
    && /opt/iter8/bin/pip uninstall --yes pip

FROM python:3.12.8-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/iter8/bin:$PATH

COPY --from=build /opt/iter8 /opt/iter8
COPY entrypoint.py /action/entrypoint.py

ENTRYPOINT ["python", "/action/entrypoint.py"]
