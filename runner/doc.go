// Package runner executes the runs of an experiment and reports on them.
//
// # Scheduling
//
// [Run] hands the runs to slots, one worker process at a time per slot.
// This build's models compute on the CPU only, so the slots are CPU slots:
// as many as the cores allow given each run's train.threads, or as asked.
// GPUs are discovered ([Discover]) and reported, never scheduled.
//
// # Worker processes
//
// Each run executes in a child process of the same binary (see [Serve]), so
// that a crash or a diverging run takes down only itself. The parent writes
// the run as one JSON line on the child's standard input; the child streams
// its [Event]s as JSON lines on its standard output, and waits after each
// for the parent's [Ack], sent once the parent has recorded the event in the
// store. A checkpoint is therefore only ever written after every metric it
// covers is in the store. The child's standard error goes to the run's
// log.txt. The parent alone writes the store.
//
// # Claiming and stale runs
//
// A run is executed only by a process that holds an exclusive flock on its
// lock file, out/<experiment>/<run id>/lock, for the whole execution (the
// parent takes it and the worker inherits it), and the store marks a run
// running only while its lock is held. A run marked running whose lock can
// be taken is therefore stale, left by a harness killed outright: it is
// marked interrupted and claimed again, and training resumes from its last
// checkpoint. A run whose lock is held elsewhere is waited for.
package runner
