# One image for every twoway process; compose picks the process with `command`.
#   docker build -t twoway .                  -> the services
#   docker build --target demo -t twoway-demo .  -> plus localstripe (the `demo` extra, GPL:
#                                                 only ever run as a separate process)
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --system --create-home --uid 10001 twoway
WORKDIR /src
COPY . .

FROM base AS app
RUN pip install . && rm -rf /src
WORKDIR /home/twoway
USER twoway
CMD ["twoway", "--help"]

FROM base AS demo
RUN pip install ".[demo]" && rm -rf /src
WORKDIR /home/twoway
USER twoway
CMD ["localstripe", "--port", "8420"]
