package sources

// Signal is a wake-up call from a driver's reader goroutines to its watch
// loop. Notify never blocks and wake-ups coalesce: at most one is
// pending, so a loop that receives once sees every Notify made before.
// Make one with [NewSignal]; wait on it with [Watch].Wait or a select.
type Signal chan struct{}

// NewSignal returns a Signal with no wake-up pending.
func NewSignal() Signal { return make(Signal, 1) }

// Notify leaves a wake-up pending, unless one already is.
func (s Signal) Notify() {
	select {
	case s <- struct{}{}:
	default:
	}
}
