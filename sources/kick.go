package sources

// Kick makes the watch of key look again at once, as a joining subscriber
// does: its [Watch.Sleep] or [Watch.Wait] returns and [Watch.Kicked]
// reports true until its next [Watch.Begin]. It reports whether a watch of
// key runs. A driver calls it when something outside the watch loop changed
// what the loop should do next, such as a value livebind refused
// ([Rejecter]). It never blocks on the loop.
func (ws *Watches[K, S]) Kick(key K) bool {
	ws.init()
	ws.mu.Lock()
	w := ws.byKey[key]
	ws.mu.Unlock()
	if w == nil {
		return false
	}
	w.mu.Lock()
	w.poke(false)
	w.mu.Unlock()
	return true
}
