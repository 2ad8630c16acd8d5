package nats

import (
	"strconv"
	"strings"
	"testing"

	natsgo "github.com/nats-io/nats.go"
)

// TestWebsocketURL: only a ws:// or wss:// URL turns the protocol bounds
// off; a host name that starts with "ws", without a scheme (read as
// nats://), does not.
func TestWebsocketURL(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]bool{
		"ws://h:80":                  true,
		"WSS://h:443":                true,
		"nats://a:4222, wss://b:443": true,
		"wsgate:4222":                false,
		"nats://ws:4222":             false,
		"wshost.example":             false,
	} {
		if got := websocket(natsgo.Options{Url: u}); got != want {
			t.Errorf("Url %q: websocket %v, want %v", u, got, want)
		}
	}
	if !websocket(natsgo.Options{Servers: []string{"nats://a:4222", "wss://b:443"}}) {
		t.Error("a wss:// URL among Servers")
	}
	if websocket(natsgo.Options{Servers: []string{"wsgate:4222"}}) {
		t.Error("a host name starting with ws among Servers")
	}
}

// TestProtoBoundSplits: the bound follows a legal stream however the
// reads cut it (byte by byte, in chunks of 7, whole), a payload that looks
// like a control line included, and refuses an oversized message or line
// at any cut.
func TestProtoBoundSplits(t *testing.T) {
	t.Parallel()
	tricky := "MSG a 1 99999999999\r\n" // as a payload: not a line
	legal := "INFO {\"max_payload\":1048576}\r\nPING\r\n+OK\r\n" +
		"MSG app.mode 1 " + strconv.Itoa(len(tricky)) + "\r\n" + tricky + "\r\n" +
		"HMSG app.mode 1 _INBOX.x 12 " + strconv.Itoa(12+len(tricky)) + "\r\nNATS/1.0\r\n\r\n" + tricky + "\r\n" +
		"msg app.mode 1 0\r\n\r\n-ERR 'x'\r\n"
	bad := map[string]string{
		"message":      "MSG a 1 " + strconv.Itoa(MaxMessage+1) + "\r\n",
		"header msg":   "HMSG a 1 12 " + strconv.Itoa(MaxMessage+1) + "\r\n",
		"line":         "INFO {" + strings.Repeat("x", MaxControlLine),
		"message line": "MSG " + strings.Repeat("x", opLine) + " 1 5\r\n",
	}
	feed := func(stream string, chunk int) error {
		b := &protoBound{}
		for s := stream; s != ""; {
			n := min(chunk, len(s))
			if err := b.scan([]byte(s[:n])); err != nil {
				return err
			}
			s = s[n:]
		}
		return nil
	}
	for _, chunk := range []int{1, 7, 1 << 30} {
		if err := feed(legal, chunk); err != nil {
			t.Errorf("legal stream in chunks of %d: %v", chunk, err)
		}
		for name, s := range bad {
			if feed(legal+s, chunk) == nil {
				t.Errorf("%s in chunks of %d: not refused", name, chunk)
			}
		}
	}
}

// FuzzProtoBound: no stream makes the bound panic, and its verdict on a
// stream does not depend on how the reads cut it (whole, at one place, or
// byte by byte): a server cannot slip an oversized message or line past it
// by choosing its segment sizes.
func FuzzProtoBound(f *testing.F) {
	f.Add([]byte("INFO {}\r\nMSG a 1 5\r\nhello\r\nPING\r\n"), uint16(9))
	f.Add([]byte("HMSG a 1 12 17\r\nNATS/1.0\r\n\r\nhello\r\n"), uint16(3))
	f.Add([]byte("MSG a 1 "+strconv.Itoa(MaxMessage+1)+"\r\n"), uint16(4))
	f.Add([]byte("MSG a 1 3\r\nMSG\r\n\x16\x03\x01"), uint16(11))
	// A TLS record's first byte inside a line, at a read's start, is not
	// the upgrade: the oversized message after it is still refused.
	f.Add([]byte("PING\x16x\r\nMSG a 1 "+strconv.Itoa(MaxMessage+1)+"\r\n"), uint16(4))
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		verdict := func(chunks ...[]byte) bool {
			b := &protoBound{}
			for _, c := range chunks {
				if err := b.scan(c); err != nil {
					return false
				}
			}
			return true
		}
		whole := verdict(stream)
		at := int(cut) % (len(stream) + 1)
		if got := verdict(stream[:at], stream[at:]); got != whole {
			t.Fatalf("cut at %d: accepted %v, whole stream %v", at, got, whole)
		}
		if len(stream) <= 1<<12 {
			bytes := make([][]byte, len(stream))
			for i := range stream {
				bytes[i] = stream[i : i+1]
			}
			if got := verdict(bytes...); got != whole {
				t.Fatalf("byte by byte: accepted %v, whole stream %v", got, whole)
			}
		}
	})
}
