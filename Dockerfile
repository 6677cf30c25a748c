# duo-gateway's container image: a release build of the gateway on a minimal, non-root runtime.
#
#   docker build -t duo-gateway:0.1.0 .          (or: podman build -t duo-gateway:0.1.0 .)
#   docker run --read-only -p 5052:5052 -p 8082:8082 -e AIGW_GITLAB_URL=https://gitlab.example.com duo-gateway:0.1.0
#
# The defaults are those of GitLab's self-hosted AI gateway image: custom models enabled, the API
# on 0.0.0.0:5052 and metrics on 0.0.0.0:8082. The process runs as user 65532 and writes nothing
# to the image's file system, so it runs with a read-only root file system (OpenShift's
# restricted policy); mount a volume for a documentation index (docs_search.db) or a log file.
#
# Build arguments pick the base images: BUILDER_IMAGE needs a Rust toolchain (or only `sh`, `mkdir`,
# `cp` and `chmod` when a binary for the target platform is put at prebuilt/duo-gateway, which is then
# used as is: that is how CI builds this file without pulling images); RUNTIME_IMAGE needs glibc,
# libgcc_s and CA certificates (distroless "cc" has exactly those).
ARG BUILDER_IMAGE=docker.io/library/rust:1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
COPY . .
RUN mkdir -p /out \
    && if [ -x prebuilt/duo-gateway ]; then \
      cp prebuilt/duo-gateway /out/duo-gateway; \
    else \
      cargo build --release --locked -p duo-gateway && cp target/release/duo-gateway /out/; \
    fi \
    && chmod 0755 /out/duo-gateway

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/duo-gateway /usr/local/bin/duo-gateway
ENV AIGW_CUSTOM_MODELS__ENABLED=true \
    AIGW_FASTAPI__API_HOST=0.0.0.0 \
    AIGW_FASTAPI__API_PORT=5052 \
    AIGW_FASTAPI__METRICS_HOST=0.0.0.0 \
    AIGW_FASTAPI__METRICS_PORT=8082
USER 65532:65532
EXPOSE 5052 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/duo-gateway", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/duo-gateway"]
