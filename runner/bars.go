package runner

import (
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"harness/store"
)

// bars is the Progress of a terminal: a bar per slot with the run's name,
// step, loss and ETA, and a line above the bars per start or end of a run.
type bars struct {
	p     *mpb.Progress
	w     io.Writer
	mu    sync.Mutex
	slots map[int]*barSlot
}

// barSlot is the run a slot executes.
type barSlot struct {
	bar   *mpb.Bar
	began time.Time
	last  time.Time     // of the last step shown; only the slot's goroutine uses it
	loss  atomic.Uint64 // bits of the last loss, read by the bar's decorator
}

func newBars(w io.Writer) *bars {
	return &bars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(32)), w: w, slots: map[int]*barSlot{}}
}

// println writes a line above the bars, or straight to the output once the
// bars are gone, as after a failure to draw them.
func (b *bars) println(s string) {
	if _, err := b.p.Write([]byte(s + "\n")); err != nil {
		fmt.Fprintln(b.w, s)
	}
}

func (b *bars) Note(msg string)       { b.println(msg) }
func (b *bars) Skipped(run store.Run) { b.println(skippedLine(run)) }

func (b *bars) Started(slot int, s Started) {
	now := time.Now()
	bs := &barSlot{began: now, last: now}
	bs.loss.Store(math.Float64bits(math.NaN()))
	bs.bar = b.p.AddBar(int64(s.Steps),
		mpb.PrependDecorators(
			decor.Name(runLabel(s.ID, s.Name), decor.WCSyncSpaceR),
			decor.CountersNoUnit("%d/%d", decor.WCSyncSpace),
		),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string { return "loss " + formatLoss(math.Float64frombits(bs.loss.Load())) }, decor.WCSyncSpace),
			decor.OnComplete(decor.EwmaETA(decor.ET_STYLE_GO, 30, decor.WCSyncSpace), ""),
		),
		mpb.BarRemoveOnComplete(),
	)
	b.mu.Lock()
	b.slots[slot] = bs
	b.mu.Unlock()
	b.println(startedLine(s))
}

// slot returns the run slot executes. The bar's methods are called without
// holding mu, which the bar's rendering never needs.
func (b *bars) slot(slot int) *barSlot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.slots[slot]
}

func (b *bars) Resumed(slot, step int) {
	s := b.slot(slot)
	s.bar.SetCurrent(int64(step))
	s.last = time.Now()
}

func (b *bars) Logged(slot, step int, loss float64) {
	s := b.slot(slot)
	now := time.Now()
	s.loss.Store(math.Float64bits(loss))
	s.bar.EwmaSetCurrent(int64(step), now.Sub(s.last))
	s.last = now
}

func (b *bars) Ended(slot int, o Outcome) {
	b.mu.Lock()
	s := b.slots[slot]
	delete(b.slots, slot)
	b.mu.Unlock()
	var took time.Duration
	if s != nil {
		took = time.Since(s.began)
		s.bar.Abort(true)
	}
	b.println(endedLine(o, took))
}

func (b *bars) Close() { b.p.Wait() }
