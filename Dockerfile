# The reference gateway image (SPEC §6). No registry is reachable where it is built
# and tested, so it starts FROM scratch and has no `# syntax=` line.
#
# Build context: a directory holding the statically linked `gateway` and an empty
# `data/` directory. `restart-harness image build` makes it and builds this file;
# by hand, see docs/backends.md ("Build the image by hand").
FROM scratch
COPY --chown=10001:10001 gateway /gateway
# An empty /data owned by the gateway's user: a new named volume copies this ownership.
COPY --chown=10001:10001 data/ /data/
LABEL org.opencontainers.image.title="restart-harness reference gateway"
USER 10001:10001
VOLUME /data
STOPSIGNAL SIGTERM
ENTRYPOINT ["/gateway", "init"]
