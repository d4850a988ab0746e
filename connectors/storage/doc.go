// Package storage is what the object-storage sinks share: file formats,
// partitioners, rotation, and the commit protocol that makes every record of
// a topic land in exactly one object, whatever crashes, restarts, rebalances
// or zombie tasks happen on the way.
//
// A back end (connectors/s3, connectors/file) supplies a Store; this package
// supplies the SinkTask. On the data path it sits last: the runtime hands the
// task decoded records, the task writes them into files in a local spool
// directory, uploads finished files to the Store, and tells the runtime which
// offsets are durable.
//
// Each task spools into a directory of its own below spool.dir, which it
// holds with an advisory lock on a .lock file while it runs; the kernel
// drops the lock when the process dies. A starting task removes the
// directories below spool.dir whose lock no process holds, what killed
// workers left behind: nothing in them is needed, since recovery works
// from the plans in the Store and the records in Kafka.
//
// # Segments and plans
//
// The records of one Kafka partition are cut into segments: contiguous
// offset ranges [start, last]. A segment ends when it holds flush.size
// records, when the next record's time is rotate.interval.ms past the
// segment's first record time (record time, from the partitioner's timestamp
// extractor), or when the wall clock passes the next multiple of
// rotate.schedule.interval.ms. Inside a segment, records go to one file per
// encoded partition and writer schema, in a deterministic order, so that a
// segment's records always render to the same bytes. With
// schema.compatibility BACKWARD, FORWARD or FULL, records of compatible
// schemas share a file instead, projected to one schema that the segment's
// records alone determine (see evolution.go).
//
// A data file is named after the first offset it holds:
//
//	<topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<first offset>.<ext>
//
// When a segment ends, the task commits it in three steps:
//
//  1. It writes the segment's plan, <topics.dir>/_tributary/plans/<topic>/
//     <partition>/<start>.json, with a create-only write (If-None-Match: *).
//     The plan names the offset range and every file with its record count.
//     Exactly one writer can create the plan for a given start offset: that
//     writer's cut of the segment is final.
//  2. It uploads every file of the plan, create-only as well. A file that
//     exists already was uploaded by an earlier attempt of the same plan and
//     holds the same bytes.
//  3. It reports last+1 as durable; the runtime commits that offset to Kafka.
//
// The invariant is that the plan for a segment exists only once the files of
// every earlier segment of the partition are in the Store, because a writer
// completes a plan before it writes the next one.
//
// # Recovery
//
// When a partition is assigned, the task lists the plans at or after the
// offset Kafka has committed. If there are none, it resumes from the
// committed offset. Otherwise it resumes from the start of the newest plan and
// re-executes it: it rebuilds exactly the files the plan names from the same
// records and uploads the ones that are missing. A rebuilt segment that does
// not match its plan (the connector's partitioner or format changed under it)
// fails the task rather than write a record twice. The bucket therefore
// decides the position whenever Kafka's committed offset lags behind it.
//
// # Zombies
//
// A task that stalls past its group session (a long GC pause, SIGSTOP, a
// network partition) may wake up and try to write a segment its partition's
// new owner has written already. Its plan write fails because the new owner
// created the plan for that start offset first, so it uploads nothing; it
// drops its buffers and the runtime rewinds it, until the group tells it the
// partition is gone. If the zombie created the plan first, the new owner
// adopts that plan and both render the same bytes, so whichever upload lands
// first, the object never changes. Objects are never overwritten.
//
// # Limitations
//
//   - The wall-clock timestamp extractor (timestamp.extractor=Wallclock) is
//     not offered: a replay would put records in other partitions.
//   - Records removed from a compacted topic between a plan's first execution
//     and its re-execution make the rebuilt segment differ from its plan; the
//     task then fails with an error naming the plan instead of guessing.
//   - With schema.compatibility other than NONE, a segment keeps its
//     decoded records in memory until it ends (at most flush.size per
//     partition), because the schema its files are written with is known
//     only then. Each segment picks its own schema, so files of successive
//     segments may differ in schema where Confluent's sinks would project
//     to the newest schema seen since the task started.
package storage
