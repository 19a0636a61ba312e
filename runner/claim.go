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
	// dirNote says why the run's directory is not the one under this
	// harness's output directory, or not the one its last claim recorded
	// (see chooseDir); "" if it is both, or none was recorded.
	dirNote string
}

// acquire claims the run rec describes for self (see store.ClaimAs),
// taking it over if it is running under an owner that live says is gone,
// and records the run's directory: the one its last claim recorded if that
// still holds the run's marker, otherwise the run's directory under out
// (see chooseDir). It returns a holding if the caller is to execute the
// run; otherwise the run as stored: running in another live process, done,
// or failed (and not to be retried).
func acquire(st *store.Store, rec store.Run, retryFailed bool, live Liveness, out, storeID string) (*holding, store.Run, error) {
	var note string
	dir := func(r store.Run) string {
		var d string
		d, note = chooseDir(RunDir(out, r.Experiment, storeID, r.ID), r, markerOf(storeID, r))
		return d
	}
	c, err := st.ClaimAs(rec, store.ClaimOptions{RetryFailed: retryFailed, Owner: live.Self(), Gone: live.Gone, Dir: dir})
	if err != nil {
		return nil, store.Run{}, err
	}
	if !c.Claimed {
		return nil, c.Run, nil
	}
	h := &holding{run: c.Run, held: st.Held(c.Run.ID, c.Run.Owner.Token), stale: c.TookOver, previous: c.Previous,
		dirNote: note}
	return h, c.Run, nil
}

// markerOf is the marker of the run r of the store with the given identity.
func markerOf(storeID string, r store.Run) Marker {
	return Marker{StoreID: storeID, RunID: r.ID, ConfigHash: r.ConfigHash}
}
