# pix-ingest container: multi-stage build, small runtime image, non-root user (uid/gid 10001).
#
# Build:  docker build --build-arg PIX_INGEST_BUILD_COMMIT="$(git rev-parse --short=12 HEAD)" -t pix-ingest .
# Demo:   docker run --rm -p 8080:8080 -p 9090:9090 -v pix-data:/var/lib/pix-ingest pix-ingest
#         (no environment needed: the bundled demo config, embedded NON-DURABLE broker, a
#         generator, a file sink and a Delta sink writing under /var/lib/pix-ingest/data)
# Real:   docker run -v $PWD/prod.yaml:/etc/pix-ingest/config.yaml:ro \
#           -e PIX_INGEST_CONFIG=/etc/pix-ingest/config.yaml -e KAFKA_SASL_PASSWORD=... pix-ingest
#         (PIX_INGEST_CONFIG rather than `run --config`, so that the HEALTHCHECK reads the same file)
#
# What tests/it/container.rs checks without a Docker engine: the release flags below, and this
# file's USER, WORKDIR, ENV, ENTRYPOINT + CMD and HEALTHCHECK run as they are written, as a
# non-root uid in an empty working directory. hadolint checks the file (scripts/deploy-check).

FROM rust:1.95-bookworm AS build
# The commit for pix_ingest_build_info and --version (there is no .git in the build context).
ARG PIX_INGEST_BUILD_COMMIT=unknown
# librdkafka is built from source: OpenSSL, zlib, Cyrus SASL (GSSAPI) and libcurl (OIDC).
# Packages float with the base image's Debian point release (pinning exact versions breaks the
# build at the next point release); the base images are the pin.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev zlib1g-dev perl make \
        libsasl2-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock rust-toolchain.toml build.rs ./
COPY .cargo ./.cargo
COPY crates ./crates
COPY src ./src
COPY config ./config
COPY tests ./tests
COPY benches ./benches
RUN cargo build --release --locked --bin pix-ingest

FROM debian:bookworm-slim
# What the binary links (tests/it/container.rs checks this list against its NEEDED libraries), and
# the MIT GSSAPI plugin Cyrus SASL loads for Kerberos.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
        libsasl2-2 libsasl2-modules-gssapi-mit libcurl4 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 pix \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/pix-ingest --no-create-home --shell /usr/sbin/nologin pix \
    && mkdir -p /var/lib/pix-ingest/data \
    && chown -R 10001:10001 /var/lib/pix-ingest
COPY --from=build /src/target/release/pix-ingest /usr/local/bin/pix-ingest
# Example configs (production.example.yaml documents every option); mount your own file.
COPY config /etc/pix-ingest
# The bundled demo binds loopback by default; in a container it must take traffic from outside.
ENV PIX_INGEST_LISTEN=0.0.0.0:8080 \
    PIX_INGEST_ADMIN_LISTEN=0.0.0.0:9090
# State and checkpoints: the admin state file (data/admin-state.json), file-source checkpoints,
# the demo's file and Delta sinks. Relative paths in a config resolve here.
WORKDIR /var/lib/pix-ingest
VOLUME ["/var/lib/pix-ingest"]
USER 10001:10001
EXPOSE 8080 9090
# Liveness of the admin listener of the same config `run` uses (no curl in this image).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["pix-ingest", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/pix-ingest"]
CMD ["run"]
