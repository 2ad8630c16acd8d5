package livebind

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// sighup is the default signal of WithReloadOnSignal.
var sighup = syscall.SIGHUP

// listenSignals registers for the options' signals before Bind returns, so
// that no signal sent after Bind falls to the default action.
func (b *Binding[T]) listenSignals() {
	if len(b.opts.signals) == 0 {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, b.opts.signals...)
	b.wg.Add(1)
	go b.signalReloads(ch)
}

// signalReloads calls Reload for every signal the options named, until the
// Binding closes. Reload failures are reported as Error updates already;
// they are also logged here.
func (b *Binding[T]) signalReloads(ch chan os.Signal) {
	defer b.wg.Done()
	defer signal.Stop(ch)
	for {
		select {
		case <-b.ctx.Done():
			return
		case sig := <-ch:
			ctx, cancel := context.WithTimeout(b.ctx, b.opts.startTimeout)
			start := time.Now()
			err := b.Reload(ctx)
			cancel()
			if err != nil {
				b.log.Warn("livebind: reload on signal reported problems", "signal", sig.String(), "error", err)
			} else {
				b.log.Info("livebind: reloaded on signal", "signal", sig.String(), "took", time.Since(start))
			}
		}
	}
}
