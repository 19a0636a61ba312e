package data

import "fmt"

// prefetch is the number of batches a [Loader] prepares ahead of use.
const prefetch = 2

// Loader serves the training batches of a split. Each epoch visits the
// images in an order drawn from the seed and the epoch number, in batches
// of a fixed size, dropping the images left over at its end; so the batch
// of a step depends on the seed and the step alone, and a run resumed at
// step k sees the batches an uninterrupted run would. A goroutine prepares
// the next batches while the caller works; Close stops it.
//
// A Loader is meant for one goroutine: Next and Close must not be called
// concurrently.
type Loader struct {
	split *Split
	size  int
	seed  uint64

	full    chan *Batch   // prepared batches, in step order
	free    chan *Batch   // batches ready to be refilled
	done    chan struct{} // closed by Close
	stopped chan struct{} // closed when the goroutine has returned
	held    *Batch        // the batch last returned by Next
	closed  bool
}

// NewLoader returns a loader of batches of size images of s, in the order
// fixed by seed, whose first batch is that of step.
func NewLoader(s *Split, size int, seed uint64, step int) (*Loader, error) {
	switch {
	case size < 1:
		return nil, fmt.Errorf("batch size must be >= 1, got %d", size)
	case size > s.Len():
		return nil, fmt.Errorf("batch size %d exceeds the %d images of the split", size, s.Len())
	case step < 0:
		return nil, fmt.Errorf("step must be >= 0, got %d", step)
	}
	l := &Loader{
		split:   s,
		size:    size,
		seed:    seed,
		full:    make(chan *Batch, prefetch),
		free:    make(chan *Batch, prefetch+2),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	// One batch being filled, prefetch waiting, one held by the caller.
	for range prefetch + 2 {
		l.free <- s.newBatch(size)
	}
	go l.run(step)
	return l, nil
}

// StepsPerEpoch returns the number of batches in an epoch.
func (l *Loader) StepsPerEpoch() int { return l.split.Len() / l.size }

// Next returns the batch of the next step. The batch is reused: it is
// valid until the following call to Next or Close. After Close, Next
// returns nil.
func (l *Loader) Next() *Batch {
	if l.closed {
		return nil
	}
	if l.held != nil {
		l.free <- l.held
	}
	l.held = <-l.full
	return l.held
}

// Close stops the loader's goroutine and waits for it to return.
func (l *Loader) Close() {
	if l.closed {
		return
	}
	l.closed = true
	close(l.done)
	<-l.stopped
}

// run fills batches from step on until Close.
func (l *Loader) run(step int) {
	defer close(l.stopped)
	per := l.StepsPerEpoch()
	epoch, order := -1, []int(nil)
	for ; ; step++ {
		var b *Batch
		select {
		case b = <-l.free:
		case <-l.done:
			return
		}
		if e := step / per; e != epoch {
			epoch, order = e, newRNG(l.seed, streamEpoch, uint64(e)).perm(l.split.Len())
		}
		k := step % per
		l.split.fill(b, step, order[k*l.size:(k+1)*l.size])
		select {
		case l.full <- b:
		case <-l.done:
			return
		}
	}
}
