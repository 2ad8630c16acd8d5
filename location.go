package livebind

import (
	"errors"
	"path/filepath"
	"slices"

	"github.com/livebind/livebind/sources"
)

// Location redaction (issue 17). The rule for URLs is in
// sources.RedactURL; this file holds the two tag options that refine it
// and hides a secret location from what drivers report.

// shareLocationRules merges the location rules of other, a field's fresh
// target for the same location, into t, the shared one: the location is
// hidden if any field says so, and a parameter is shown only if every field
// declares it safe.
func (t *target) shareLocationRules(other *target) {
	t.hideLoc = t.hideLoc || other.hideLoc
	t.safeQuery = slices.DeleteFunc(t.safeQuery, func(p string) bool { return !slices.Contains(other.safeQuery, p) })
}

// shareDocumentRules gives every target of one location (the same scheme
// and location with other options, such as poll=, which make separate
// targets) the location rules of all its fields, as shareLocationRules does
// within one target: a location that one field says is secret is hidden
// on every target that reads it, and a parameter is shown only if every
// field of the location declares it safe. Targets without a location
// (optional fields with nothing to watch) are left alone.
func shareDocumentRules(targets []*target) {
	byDoc := map[string]*target{}
	for _, t := range targets {
		if t.unwatched != "" {
			continue
		}
		if first, ok := byDoc[t.document()]; ok {
			first.shareLocationRules(t)
		} else {
			byDoc[t.document()] = t
		}
	}
	for _, t := range targets {
		if first, ok := byDoc[t.document()]; ok && first != t && t.unwatched == "" {
			t.hideLoc, t.safeQuery = first.hideLoc, slices.Clone(first.safeQuery)
		}
	}
}

// locationForms lists the texts a secret location of scheme may show up as
// in what its driver reports: as written and, for a file path, as the file
// driver reports it, cleaned and (when relative) joined to wd, the working
// directory at Bind. "./sec//key" is shown as "/srv/app/sec/key". A path
// that is not printable UTF-8 is shown quoted (sources.ShowPath).
//
// The driver's form comes first: a location is scrubbed whole before its
// long pieces are, and a piece of the written form scrubbed first would
// leave the rest of the driver's form in the text.
func locationForms(scheme, loc, wd string) []string {
	if scheme != "file" || loc == "" {
		return []string{loc}
	}
	p := filepath.Clean(loc)
	if !filepath.IsAbs(p) && wd != "" {
		p = filepath.Join(wd, p)
	}
	// The driver quotes a path that is not printable UTF-8 (a newline in
	// a name) in its error texts (sources.ShowPath): that form first.
	var forms []string
	if q := sources.ShowPath(p); q != p {
		forms = append(forms, q)
	}
	forms = append(forms, p)
	if loc != p {
		if q := sources.ShowPath(loc); q != loc {
			forms = append(forms, q)
		}
		forms = append(forms, loc)
	}
	return forms
}

// hiddenLocs lists the forms of t's secret location that are scrubbed
// from what its driver reports.
func (t *target) hiddenLocs() []string {
	if t.hidden != nil {
		return t.hidden
	}
	return []string{t.spec.Location}
}

// hideResult scrubs a secret location from what a driver reported.
func (t *target) hideResult(r sources.Result) sources.Result {
	if t.hideLoc && r.Err != nil {
		r.Err = sources.ScrubError(r.Err, t.hiddenLocs()...)
	}
	return r
}

// hideErr scrubs a secret location from a driver's error.
func (t *target) hideErr(err error) error {
	if t.hideLoc {
		return sources.ScrubError(err, t.hiddenLocs()...)
	}
	return err
}

// secretLocations lists the locations of scheme's targets marked
// secretlocation, in every form, which the scheme's driver logger must
// scrub.
func secretLocations(targets []*target, scheme string) []string {
	var out []string
	for _, t := range targets {
		if t.hideLoc && t.scheme.Name == scheme {
			out = append(out, t.hiddenLocs()...)
		}
	}
	return out
}

// hideLocations scrubs the secret locations locs from Bind's error err (see
// [sources.ScrubLocation]): from the Source and the Err of each
// [*FieldError] of the join, so that errors.As finds scrubbed FieldErrors
// too. A scheme's Check quotes the location it refuses, and a field
// without secretlocation names a location another field declared secret.
func hideLocations(err error, locs []string) error {
	if err == nil || len(locs) == 0 {
		return err
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts := j.Unwrap()
		out := make([]error, len(parts))
		for i, p := range parts {
			out[i] = hideLocations(p, locs)
		}
		return errors.Join(out...)
	}
	if fe, ok := err.(*FieldError); ok { //nolint:errorlint // an element of the join that is a FieldError itself: a wrapper keeps its own text, scrubbed below
		c := *fe
		for _, l := range locs {
			c.Source = sources.ScrubLocation(c.Source, l)
		}
		c.Err = sources.ScrubError(c.Err, locs...)
		return &c
	}
	return sources.ScrubError(err, locs...)
}
