package sources

import (
	"strconv"
	"unicode/utf8"
)

// ShowPath returns a file path as drivers show it in error texts: as it is
// when it is valid UTF-8 made of printable characters (spaces included),
// else quoted with [strconv.Quote], so that a hostile file name (a newline
// followed by a forged log record, a carriage return, invalid UTF-8, a
// right-to-left override) cannot forge or garble a log line the error is
// written to. livebind scrubs a secretlocation in this form too.
func ShowPath(p string) string {
	if !utf8.ValidString(p) {
		return strconv.Quote(p)
	}
	for _, r := range p {
		if !strconv.IsPrint(r) {
			return strconv.Quote(p)
		}
	}
	return p
}
