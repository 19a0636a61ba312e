package runner

import (
	"harness/store"
)

// A holding is a run claimed in the store by this process.
type holding struct {
	run  store.Run
	held *store.Held // the run's writes, under the claim's token
	// stale says the run had been left running by an owner that is gone,
	// previous.
	stale    bool
	previous store.Owner
}

// acquire claims the run rec describes for self (see store.ClaimAs),
// taking it over if it is running under an owner that live says is gone.
// It returns a holding if the caller is to execute the run; otherwise the
// run as stored: running in another live process, done, or failed (and
// not to be retried).
func acquire(st *store.Store, rec store.Run, retryFailed bool, live Liveness) (*holding, store.Run, error) {
	c, err := st.ClaimAs(rec, store.ClaimOptions{RetryFailed: retryFailed, Owner: live.Self(), Gone: live.Gone})
	if err != nil {
		return nil, store.Run{}, err
	}
	if !c.Claimed {
		return nil, c.Run, nil
	}
	h := &holding{run: c.Run, held: st.Held(c.Run.ID, c.Run.Owner.Token), stale: c.TookOver, previous: c.Previous}
	return h, c.Run, nil
}
