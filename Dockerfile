# litmus-server in a small Debian image. Build: docker build -t litmus-server .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p litmus-server

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/litmus litmus \
    && mkdir -p /var/lib/litmus && chown litmus /var/lib/litmus
COPY --from=build /src/target/release/litmus-server /usr/local/bin/litmus-server
USER litmus
WORKDIR /var/lib/litmus
ENV LITMUS_LISTEN=0.0.0.0:8080 LITMUS_DATA=/var/lib/litmus
EXPOSE 8080
HEALTHCHECK CMD curl -fs localhost:8080/healthz || exit 1
ENTRYPOINT ["litmus-server"]
