# NATS for Railway: the locked-down config of ops/nats, JetStream on the service's volume (/data).
FROM nats:2.10.29-alpine
COPY ops/nats/nats-server.conf /etc/nats/nats-server.conf
