// Package cluster runs a worker in distributed mode: workers that share a
// group.id form a cluster through Kafka's group membership protocol
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) with a protocol type of
// their own, "connect", as Kafka Connect's distributed workers do. Kafka
// elects the group's leader; the leader computes which worker runs which
// connector and task, and every worker runs what it is given.
//
// On the data path it sits above the worker: it decides where connectors
// and tasks run, never how records move. Sink tasks of one connector still
// share the consumer group connect-<name>, so the partitions of a task that
// is not running are consumed by the connector's other tasks, and the
// storage sinks' commit protocol fences a task that runs on two workers for
// a moment.
//
// Assignments are incremental and cooperative (Kafka Connect's protocol
// "sessioned"/"compatible" in spirit): a worker keeps running what it
// owns through a rebalance; work that must move is first revoked from its
// owner, which stops it and rejoins, and only the following rebalance gives
// it to another worker, so a task stops before it starts elsewhere. The
// work of a worker that left without revoking (a crash) is held for
// scheduled.rebalance.max.delay.ms, in case the worker comes back, unless a
// new worker with nothing to run joins in the meantime.
//
// Assign is the leader's algorithm, a pure function; Member runs the
// protocol.
package cluster
