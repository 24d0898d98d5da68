# ctdsr — common tasks. `make test` is what CI runs (.ci/run).
SHELL     := bash
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

.PHONY: build test test-steps vet race fuzz bench demo fmt clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ctdsr

# `make test` runs vet, race and fuzz, stopping at the first that fails, and
# then says as its last line which step failed: "gofmt", "tidy", "vet", the
# packages that failed in race, or the package:target that failed in fuzz.
# The steps run in a sub-make that is told to write that into TEST_FAILED
# (see `failed`); once they are done, `test` reads it and stops make with it.
TEST_FAILED := $(CURDIR)/bin/.test-failed
failed = { if [ -n "$(WRITE_FAILED_TO)" ]; then echo "$(1)" > "$(WRITE_FAILED_TO)"; fi; exit 1; }

test: test-steps
	$(eval failed_step := $(shell cat "$(TEST_FAILED)" 2>/dev/null; rm -f "$(TEST_FAILED)"))
	$(if $(failed_step),$(error make test: FAILED in $(failed_step)))

test-steps:
	@mkdir -p $(dir $(TEST_FAILED)) && rm -f "$(TEST_FAILED)"
	@$(MAKE) --no-print-directory vet race fuzz WRITE_FAILED_TO="$(TEST_FAILED)" || test -s "$(TEST_FAILED)" || echo "make" > "$(TEST_FAILED)"

vet:
	@test -z "$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...))" || { echo "gofmt needed:"; gofmt -l $$($(GO) list -f '{{.Dir}}' ./...); $(call failed,gofmt); }
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'"; $(call failed,tidy); }
	@echo "$(GO) vet ./..."; $(GO) vet ./... || $(call failed,vet)

# The packages that failed are the "FAIL<tab>package" lines go test ends with.
race:
	@echo "$(GO) test -race -count=1 ./..."; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	$(GO) test -race -count=1 ./... 2>&1 | tee "$$log"; \
	[ "$${PIPESTATUS[0]}" = 0 ] || $(call failed,race: $$(awk '/^FAIL\t/ { print $$2 }' "$$log" | sort -u | xargs))

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 20x $$pkg || $(call failed,fuzz $$t); \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -benchmem ./...

demo: build
	$(BIN) demo

fmt:
	gofmt -w $$($(GO) list -f '{{.Dir}}' ./...)

clean:
	rm -rf bin demo-out
