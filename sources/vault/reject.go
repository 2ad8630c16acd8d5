package vault

import "github.com/livebind/livebind/sources"

// Rejected implements [sources.Rejecter]: a field's update= method refused
// the credentials t's watch handed out (a pool cannot log in with them).
// When they come with a lease, the watch reads new ones after a short wait
// (250 ms, doubling with each refusal in a row up to the maximum backoff)
// instead of keeping the refused ones until their rotation point: the
// published credentials' lease is no longer renewed and ends soon after.
// Secrets without a lease are read again at their next poll as before.
func (d *driver) Rejected(t *sources.Target, _ error) {
	s, err := parseSpec(t, d.poll, d.timeout)
	if err != nil {
		return
	}
	d.mu.Lock()
	r, ok := d.resolveKnown(s)
	st := d.states[r]
	d.mu.Unlock()
	if !ok || st == nil || st.leaseTimes.Load() == nil {
		return
	}
	st.refused.Store(true)
	if !d.watches.Kick(watchKey{resolved: r}) {
		d.watches.Kick(watchKey{path: s.path, kv: s.kv, mount: s.mount, write: s.write})
	}
}
