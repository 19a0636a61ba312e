package runner

import (
	"fmt"
	"os"

	"harness/store"
)

// A holding is a run claimed in the store by this process, which holds the
// run's lock.
type holding struct {
	run   store.Run
	lock  *os.File
	stale bool // the run had been left running by a harness that is gone
}

// acquire claims the run rec describes (see store.Claim) and takes its
// lock, in the run directory dirOf(id). It returns a holding if the caller
// is to execute the run; otherwise the run as stored: running in another
// process, done, or failed (and not to be retried).
//
// A process executes a run only while it holds the run's lock, so a run
// marked running whose lock can be taken is stale, left by a harness that
// was killed: acquire marks it interrupted and claims it again. A run this
// process claimed but whose lock another process holds was taken over by
// that process in just this way, and is left to it.
func acquire(st *store.Store, rec store.Run, retryFailed bool, dirOf func(id int64) string) (*holding, store.Run, error) {
	run, claimed, err := st.Claim(rec, retryFailed)
	if err != nil {
		return nil, store.Run{}, err
	}
	if !claimed && run.Status != store.StatusRunning {
		return nil, run, nil
	}
	lock, err := tryLock(dirOf(run.ID))
	if err != nil || lock == nil {
		return nil, run, err
	}
	stale := false
	for !claimed {
		if run.Status != store.StatusRunning {
			lock.Close()
			return nil, run, nil
		}
		// Holding the lock, no other process can be executing the run.
		stale = true
		if err := st.MarkInterrupted(run.ID); err != nil {
			lock.Close()
			return nil, store.Run{}, fmt.Errorf("stale run %d: %w", run.ID, err)
		}
		if run, claimed, err = st.Claim(rec, retryFailed); err != nil {
			lock.Close()
			return nil, store.Run{}, err
		}
	}
	return &holding{run: run, lock: lock, stale: stale}, run, nil
}
