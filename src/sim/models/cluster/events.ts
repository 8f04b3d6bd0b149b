// The cluster model's event kinds and trace node indexes, shared by the parts that schedule and trace them.

export const EV_PUBLISH = 0; // arg: channel
export const EV_BROKER_IN = 1; // word1: message (Redis: the PUBLISH reaches Redis)
export const EV_SERVER_IN = 2; // arg: server; word1: message — a server's consumer receives it
export const EV_DELIVER = 3; // word1: slab — a frame reaches a client
export const EV_ACK = 4; // word1: slab — the client's ack reaches the server
export const EV_ATTEMPT = 5; // arg: user — a connection attempt
export const EV_CONNECTED = 6; // arg: user; word1: connection id
export const EV_DETECT = 7; // arg: user; word1: connection id — the client notices the loss
export const EV_FAULT = 8; // arg: fault index
export const EV_RECOVER = 9; // arg: fault index
export const EV_HEALTH = 10; // the load balancer's health checks
export const EV_POLL = 11; // arg: server — direct polling of the data source
export const EV_COMMIT = 12; // arg: server — Kafka consumer offset commit
export const EV_FLUSH = 13; // arg: partition — Kafka producer batch flush (linger)
export const EV_SAMPLE = 14;
export const EV_DRAIN_END = 15; // arg: server — graceful shutdown force-closes what is left
export const EV_TIMEOUT = 16; // arg: user; word1: connection id — the server times out a cut connection
export const EV_AWAY = 17; // arg: user — the user closes the app
export const EV_RETURN = 18; // arg: user — and comes back
export const EV_GROUP = 19; // arg 0: session check of server word1; arg 1: rebalance of generation word1 ends
// 20 and 21: the shaping module's (EV_SHAPE_RELEASE, EV_SHAPE_FLUSH in ./shaping.ts).
export const EV_APP = 22; // arg and word1: the hosted case-study app's own

// Trace node indexes: source, broker, lb, then servers, then their user groups.
export const NODE_SOURCE = 0;
export const NODE_BROKER = 1;
