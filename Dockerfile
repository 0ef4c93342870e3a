# syntax=docker/dockerfile:1
# rbacd container image: build with `docker build -t rbacd .`, then
#   docker run -p 50051:50051 -v rbacd-data:/var/lib/rbacd rbacd
# The default store is the SQLite file /var/lib/rbacd/rbacd.db (a volume);
# set DATABASE_URL=postgres://... to use PostgreSQL instead.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The proto files are compiled by protox at build time: no protoc needed.
# Cache mounts keep the crate registry and build artifacts between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin rbacd \
    && cp target/release/rbacd /usr/local/bin/rbacd

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 rbacd \
    && useradd --system --uid 10001 --gid rbacd --home-dir /var/lib/rbacd --shell /usr/sbin/nologin rbacd \
    && install -d -o rbacd -g rbacd -m 0750 /var/lib/rbacd
COPY --from=builder /usr/local/bin/rbacd /usr/local/bin/rbacd
# Numeric ids, so orchestrators can verify runAsNonRoot.
USER 10001:10001
WORKDIR /var/lib/rbacd
VOLUME ["/var/lib/rbacd"]
EXPOSE 50051
ENTRYPOINT ["/usr/local/bin/rbacd"]
CMD ["serve", "--listen", "0.0.0.0:50051"]
