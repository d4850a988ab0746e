# Targets for the real services the integration suite needs; the top-level
# Makefile includes this file. integration/services.sh does the work and
# keeps everything it fetches or builds under ${TRIBUTARY_CACHE:-~/.cache/tributary}.

SERVICES := integration/services.sh
# The packages test-integration runs; narrow it with make INTEGRATION_PKGS=./connectors/s3/...
INTEGRATION_PKGS ?= ./...

.PHONY: services-install services-start services-stop services-status test-integration

services-install:
	$(SERVICES) install

# Starts Kafka and MinIO on fresh data; a service whose TRIBUTARY_* address is
# already exported is taken as running elsewhere and left alone.
services-start: services-install
	$(SERVICES) start

services-stop:
	$(SERVICES) stop

services-status:
	$(SERVICES) status

# Runs the integration-tagged tests against freshly started services and stops
# them however the tests end. -p 1: the packages share one broker and one
# MinIO, and the machine has two cores.
test-integration: services-install
	@set -e; trap '$(SERVICES) stop' EXIT; \
	$(SERVICES) start; \
	eval "$$($(SERVICES) env)"; \
	go test -tags integration -p 1 -count=1 -timeout 45m $(INTEGRATION_PKGS)
