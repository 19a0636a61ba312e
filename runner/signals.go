package runner

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// An Interrupt is the cause of a context that OnSignals cancelled.
type Interrupt struct {
	Signal syscall.Signal
}

// Error names the signal.
func (i *Interrupt) Error() string { return "stopped by a signal (" + i.Signal.String() + ")" }

// ExitCode is the conventional exit status of a process stopped by the
// signal: 128 plus its number (130 for SIGINT).
func (i *Interrupt) ExitCode() int { return 128 + int(i.Signal) }

// OnSignals returns a context that the first SIGINT or SIGTERM cancels,
// with an *Interrupt as its cause, and a channel that the second closes,
// for Options.Kill. Calling stop restores the signals' default handling.
func OnSignals(parent context.Context) (ctx context.Context, kill <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	killed := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(&Interrupt{Signal: s.(syscall.Signal)})
		case <-done:
			return
		}
		select {
		case <-sigs:
			close(killed)
		case <-done:
		}
	}()
	return ctx, killed, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}
