# syntax=docker/dockerfile:1
# The callctl image: docker build -t callctl . (guide: deploy/README.md).
# The apt package lists below are checked against scripts/deps.txt, and the
# Go version against go.mod, by deploy/dockerfile_test.go: change them
# together.

ARG GO_VERSION=1.26.8

# Build stage: cgo needs the -dev packages of libvpx (VP8), openh264 (H264)
# and libopus (Opus decoding; encoding links mediadevices' static libopus).
FROM golang:${GO_VERSION}-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc g++ pkg-config libvpx-dev libopus-dev libopenh264-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Modules first, so that a source change reuses the downloaded modules.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o /out/callctl . \
 && /out/callctl --version

# Runtime stage: only the shared libraries the binary links, and CA
# certificates for wss:// servers.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libvpx7 libopus0 libopenh264-7 \
 && rm -rf /var/lib/apt/lists/*
# A fixed non-root uid, so that Kubernetes' runAsNonRoot can check it.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/callctl \
      --shell /usr/sbin/nologin callctl
COPY --from=build /out/callctl /usr/local/bin/callctl
USER 10001:10001
WORKDIR /home/callctl
# callctl fleet --metrics-addr :9464 serves Prometheus metrics here.
EXPOSE 9464
ENTRYPOINT ["callctl"]
CMD ["--help"]
