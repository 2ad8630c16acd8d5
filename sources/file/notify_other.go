//go:build !linux

package file

// newCloseNotifier: only Linux has the close-aware backend.
func newCloseNotifier() (notifier, error) { return nil, errNoCloseEvents }
