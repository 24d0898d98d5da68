# syntax=docker/dockerfile:1
#
# ctdsr as a container image: a static Go binary on a distroless base, run as
# a non-root user, with the ledger and reports on a volume at /var/lib/ctdsr.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t ctdsr:dev .
#   docker run --rm -v ctdsr-acme-eu1:/var/lib/ctdsr \
#     -e CLEVERTAP_ACCOUNT_ID -e CLEVERTAP_PASSCODE ctdsr:dev \
#     run --state /var/lib/ctdsr/state/ledger.db --out /var/lib/ctdsr/reports/latest --region eu1
#
# The image has no shell: give ctdsr its arguments directly (see
# deploy/kubernetes/). cmd/ctdsr/container_test.go builds the binary with the
# `go build` command below, checks that it is statically linked, and checks
# that the command agrees with the Makefile's `build` target.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first: a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: pure Go (the SQLite driver is modernc.org/sqlite), so the
# binary needs no libc and runs on a base image without one.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ctdsr ./cmd/ctdsr
RUN mkdir -p /out/data

# distroless/static: CA certificates (CleverTap is reached over HTTPS), tzdata
# (the binary embeds its own too), /etc/passwd with user nonroot (65532), no
# shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ctdsr /usr/local/bin/ctdsr
COPY --from=build --chown=65532:65532 /out/data /var/lib/ctdsr
# Numeric, so Kubernetes can check runAsNonRoot against the image.
USER 65532:65532
WORKDIR /var/lib/ctdsr
# The ledger (personal data, created 0600 in a 0700 directory) and the
# reports live here; mount a volume, or they vanish with the container.
VOLUME ["/var/lib/ctdsr"]
ENTRYPOINT ["/usr/local/bin/ctdsr"]
CMD ["help"]
