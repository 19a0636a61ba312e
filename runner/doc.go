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
// # Run directories
//
// A run's checkpoint, artifacts and worker log go to its directory,
// out/<experiment>/<store id prefix>-<run id> ([RunDir]): run ids restart
// in each store, and the store's random identity keeps a new store's runs
// out of an old store's directories. A marker file, run.json, names the
// store, run and configuration hash a directory belongs to; a directory
// whose marker names another run, or that holds files but no marker, is
// refused, naming it, and never read as a checkpoint.
//
// Each claim records the run's directory in the store (runs.run_dir), and
// the next claim of the run uses the recorded directory, wherever it is,
// while it exists and its marker names the run: a run taken over by, or
// resumed in, a harness with another --out continues from its checkpoint
// in the directory where it was written. Otherwise the run goes to its
// directory under the claiming harness's --out, and its log says why.
//
// # Claiming, heartbeats and stale runs
//
// A run is executed only by the harness process that claimed it in the
// store, its owner: the claim records the owner's host, pid, start (the
// boot id and the process's start time, against pid reuse) and a random
// token, and the owner refreshes the run's heartbeat every
// [HeartbeatEvery] while its worker lives. Every write for the run (its
// metrics, artifacts, heartbeat, end) checks the token, so a harness that
// lost its claim writes nothing more, and kills its worker. A run marked
// running is taken over only when its owner is provably gone ([Liveness]):
// on this host, when its process is dead (or its pid now belongs to
// another process); on another host, when its heartbeat is older than
// [Lease]. The takeover is one IMMEDIATE transaction conditioned on the
// token it read, so two harnesses never both take a run over, whatever
// their output directories or working directories. Training then resumes
// from the run's last checkpoint, and the metrics logged after it are
// deleted by the new owner. A run whose owner lives is waited for.
//
// # Failures and interruptions
//
// A run fails only by its own fault: training returned an error (a
// diverging loss, a bug, invalid data), or its worker broke the protocol
// or exited without a word. A fault of the environment leaves it
// interrupted, its checkpoint kept, for the next run to resume: a worker
// killed by a signal (the OOM killer), an I/O error, a full disk (see
// [Event.Fault]), a store that could not record an event. A full disk
// also stops the claiming of runs: [Run] returns an error wrapping
// [ErrNoSpace]. The status of a run's [Outcome] is always the one the
// store holds.
package runner
