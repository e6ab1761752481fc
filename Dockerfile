# pix-ingest container: multi-stage build, small runtime image, non-root user.
# Build:  docker build -t pix-ingest .
# Run:    docker run -p 8080:8080 -v $PWD/config:/etc/pix-ingest pix-ingest run --config /etc/pix-ingest/production.example.yaml

FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev zlib1g-dev perl make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock rust-toolchain.toml ./
COPY crates ./crates
COPY src ./src
COPY config ./config
COPY tests ./tests
COPY benches ./benches
RUN cargo build --release --locked --bin pix-ingest

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home pix
COPY --from=build /src/target/release/pix-ingest /usr/local/bin/pix-ingest
COPY config /etc/pix-ingest
USER 10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pix-ingest"]
CMD ["run", "--config", "/etc/pix-ingest/production.example.yaml"]
