# ctdsr — common tasks. `make test` is what CI runs (.ci/run).
GO        ?= go
BIN       ?= bin/ctdsr
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# An iteration count, not a duration: a duration's deadline can expire while a
# worker is mid-input, which `go test -fuzz` reports as a failure ("context
# deadline exceeded") although nothing is wrong (golang/go#75804, fixed in Go 1.27).
FUZZTIME  ?= 4000x

# Fuzz targets run briefly in `make test`: package:target pairs.
FUZZ_TARGETS ?= ./batch/manifest:FuzzReadCSV ./batch/manifest:FuzzReadParquet ./batch/manifest:FuzzReadXLSX \
                ./clevertap:FuzzCheckResponse ./clevertap:FuzzParseTS

.PHONY: build test vet race fuzz bench demo fmt clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ctdsr

test: vet race fuzz

vet:
	@test -z "$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...))" || { echo "gofmt needed:"; gofmt -l $$($(GO) list -f '{{.Dir}}' ./...); exit 1; }
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'"; exit 1; }
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 ./...

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 20x $$pkg || exit 1; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -benchmem ./...

demo: build
	$(BIN) demo

fmt:
	gofmt -w $$($(GO) list -f '{{.Dir}}' ./...)

clean:
	rm -rf bin demo-out
