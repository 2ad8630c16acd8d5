package etcd

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/livebind/livebind/sources"
)

// FuzzParseSpec: any location and options parse or fail with an error
// naming the scheme, never panic; a parsed target keeps its location as
// its key and has a positive limit.
func FuzzParseSpec(f *testing.F) {
	f.Add("app/flags", "", "")
	f.Add("app/", "true", "4096")
	f.Add("", "yes please", "-1")
	f.Fuzz(func(t *testing.T, loc, prefix, maxbytes string) {
		params := map[string]string{}
		if prefix != "" {
			params["prefix"] = prefix
		}
		if maxbytes != "" {
			params["maxbytes"] = maxbytes
		}
		k, err := parseSpec(&sources.Target{Scheme: "etcd", Location: loc, Params: params})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "etcd: ") {
				t.Fatalf("error %q does not name the scheme", err)
			}
			return
		}
		if k.key != loc || k.maxBytes <= 0 || k.timeout <= 0 || (!k.prefix && loc == "") {
			t.Fatalf("parsed %+v from %q", k, loc)
		}
	})
}

// FuzzState: any sequence of puts and deletes keeps the state's size equal
// to the sum of its values, and its result is the single value, Missing,
// a valid JSON object (prefix mode), or an ErrTooLarge error: never a
// panic.
func FuzzState(f *testing.F) {
	f.Add("app/", true, "app/a=1\napp/x/y=2\n-app/a\napp/", 64)
	f.Add("k", false, "k=v\n-k\nk=w", 1)
	f.Fuzz(func(t *testing.T, key string, prefix bool, ops string, limit int) {
		if limit <= 0 {
			limit = 1
		}
		s := newState(watchKey{key: key, prefix: prefix, maxBytes: limit})
		for i, op := range strings.Split(ops, "\n") {
			if k, ok := strings.CutPrefix(op, "-"); ok {
				s.del(k, int64(i))
				continue
			}
			k, v, _ := strings.Cut(op, "=")
			s.put(k, []byte(v), int64(i))
		}
		sum := 0
		for _, v := range s.vals {
			sum += len(v)
		}
		if sum != s.size {
			t.Fatalf("size %d, values sum to %d", s.size, sum)
		}
		r := s.result()
		switch {
		case r.Err != nil:
			if !errors.Is(r.Err, sources.ErrTooLarge) || sum <= limit {
				t.Fatalf("error %v with %d bytes, limit %d", r.Err, sum, limit)
			}
		case r.Missing:
			if r.Data != nil {
				t.Fatal("Missing with data")
			}
		case prefix:
			var m map[string]any
			if err := json.Unmarshal(r.Data, &m); err != nil || len(m) == 0 {
				t.Fatalf("prefix document %q: %v", r.Data, err)
			}
		default:
			if string(r.Data) != string(s.vals[key]) {
				t.Fatalf("value %q, want %q", r.Data, s.vals[key])
			}
		}
	})
}
