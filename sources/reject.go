package sources

// Rejecter is implemented by drivers that act when livebind refuses a value
// they emitted: the update= method of a field bound to the target returned
// an error for it (phase one of a pool rotation: the new credentials do not
// work), so the generation that held it was rejected and the last good
// value stays published. Rejected runs on livebind's applier goroutine and
// must return at once; err is what the Error update reports, redacted as
// the field is. A driver of leased credentials reads new ones after a
// backoff instead of keeping the refused ones until its next rotation.
//
// A generation refused by the struct's Validate method is not reported:
// Validate judges the whole snapshot, not one source's value.
type Rejecter interface {
	Rejected(t *Target, err error)
}
