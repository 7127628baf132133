# syntax=docker/dockerfile:1
#
# fastmcp serving the calculator plugin over Streamable HTTP, stateless, on port 8080.
#
#   docker build -t fastmcp .
#   docker run --rm -p 8080:8080 -e FASTMCP_API_KEY="$(openssl rand -hex 32)" fastmcp
#
# Serve your own plugin by building it for the same Debian release and adding it in a derived
# image (see docs/deployment.md). Pin the toolchain with --build-arg RUST_VERSION=1.88.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and build artifacts between builds; the outputs are copied
# out in the same step because the target directory is not part of the image layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p fastmcp -p calculator \
    && mkdir -p /out \
    && cp target/release/fastmcp target/release/fastmcp-plugin-host target/release/libcalculator.so /out/

# Same Debian release as the build stage: the binary and the plugin link against its glibc.
FROM debian:${DEBIAN_RELEASE}-slim
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin fastmcp
COPY --from=build /out/fastmcp /usr/local/bin/fastmcp
# The process isolated plugins run in (--isolate), found beside fastmcp.
COPY --from=build /out/fastmcp-plugin-host /usr/local/bin/fastmcp-plugin-host
COPY --from=build /out/libcalculator.so /app/libcalculator.so
WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001

# FASTMCP_HOST=0.0.0.0: inside a container the port is reached through the container's own
# interface, never loopback. FASTMCP_ALLOWED_HOSTS=*: the Host allow-list guards against DNS
# rebinding (a web page making a browser talk to a server on the user's machine); behind
# `docker run -p`, a load balancer or a platform router the Host header is whatever public
# name or IP clients use, which the image cannot know. Narrow it to your names when you know
# them, e.g. `-e FASTMCP_ALLOWED_HOSTS=mcp.example.com`, and turn on authentication
# (FASTMCP_API_KEY, FASTMCP_API_KEYS_FILE or FASTMCP_JWT_SECRET) for anything reachable.
ENV FASTMCP_TRANSPORT=http-stream FASTMCP_STATELESS=true PORT=8080 FASTMCP_HOST=0.0.0.0 FASTMCP_ALLOWED_HOSTS=* FASTMCP_LOG_FORMAT=json
EXPOSE 8080
# `fastmcp probe` GETs http://127.0.0.1:$PORT/ready: 0 once every plugin is loaded, 1 otherwise.
HEALTHCHECK --interval=10s --timeout=10s --start-period=10s --retries=3 CMD ["fastmcp", "probe"]
# The plugin file never changes inside the image: no file watcher.
CMD ["fastmcp", "dev", "/app/libcalculator.so", "--watch", "false"]
