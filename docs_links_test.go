package livebind

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestDocsLinks fails on a relative link in README.md or docs/ whose file is
// not in the repository, or whose #anchor names no heading of the markdown
// file it points to.
func TestDocsLinks(t *testing.T) {
	t.Parallel()
	files := []string{"README.md"}
	err := filepath.WalkDir("docs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found only %v: the test must run from the repository root", files)
	}
	for _, p := range checkDocLinks(".", files) {
		t.Error(p)
	}
}

// TestDocsLinksCatchesBroken runs the checker on synthetic documents: each
// broken link must be reported with its file, line and reason, and each good
// one must not.
func TestDocsLinksCatchesBroken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		doc  string
		want []string // substrings of the problems, in order; none for a clean doc
	}{
		{"ok/file", "see [tags](other.md) and ![img](img/pic.png)", nil},
		{"ok/anchor-other", "[x](other.md#the-foo-option)", nil},
		{"ok/anchor-self", "# Top\n## Fields & tags\n[x](#fields--tags) [y](#top)", nil},
		{"ok/duplicate-heading", "## Notes\n## Notes\n[x](#notes-1)", nil},
		{"ok/setext", "Title here\n==========\n[x](#title-here)", nil},
		{"ok/html-anchor", "<a id=\"custom\"></a>\n[x](#custom)", nil},
		{"ok/external", "[a](https://example.com/x.md) [b](mailto:x@example.com) [c](//cdn.example.com/y)", nil},
		{"ok/code-span", "`Stream[R](b, missing.md)` and `[x](nope.md)`", nil},
		{"ok/code-path", "`img/pic.png`, `./other.md` and `img/../other.md`", nil},
		{"ok/code-not-path", "`github.com/livebind/livebind/sources/consul`, `/etc/app/app.toml`, `app.toml`, `${DIR}/a.toml`, `a/<hash>.json`, `..data/app.toml`", nil},
		{"broken/code-path", "see `shared/design.md`", []string{"doc.md:1: code:shared/design.md: names a file that is not in the repository"}},
		{"ok/fenced", "```go\nx := a[i](nope.md)\n```\n~~~\n[x](nope.md)\n~~~", nil},
		{"ok/dir", "[d](img/)", nil},
		{"ok/escaped-space", "[s](with%20space.md)", nil},
		{"ok/title", "[t](other.md \"a title\")", nil},
		{"ok/angle", "[t](<other.md>)", nil},
		{"ok/reference", "[t][r]\n\n[r]: other.md#heading-with-code", nil},
		{"broken/file", "line one\n[x](missing.md)", []string{"doc.md:2: missing.md: no such file"}},
		{"broken/anchor-other", "[x](other.md#nope)", []string{"doc.md:1: other.md#nope: no heading"}},
		{"broken/anchor-self", "## Real\n[x](#unreal)", []string{"doc.md:2: #unreal: no heading"}},
		{"broken/duplicate-too-far", "## Notes\n## Notes\n[x](#notes-2)", []string{"#notes-2: no heading"}},
		{"broken/reference", "[r]: ./gone/x.go", []string{"doc.md:1: ./gone/x.go: no such file"}},
		{"broken/outside", "[x](../../etc/passwd)", []string{"outside the repository"}},
		{"broken/image", "![p](img/none.png)", []string{"img/none.png: no such file"}},
		{"broken/after-code", "`a` [x](gone.md) `b`", []string{"gone.md: no such file"}},
		{"broken/two", "[a](a.md) [b](b.md)", []string{"a.md", "b.md"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			sub := filepath.Join(root, "repo")
			writeFixture(t, filepath.Join(sub, "other.md"), "# Other\n## The `foo` option\n## Heading with `code`\n")
			writeFixture(t, filepath.Join(sub, "img", "pic.png"), "png")
			writeFixture(t, filepath.Join(sub, "with space.md"), "x")
			writeFixture(t, filepath.Join(sub, "doc.md"), tc.doc)
			got := checkDocLinks(sub, []string{"doc.md"})
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestHeadingSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Design as built":                        "design-as-built",
		"FAQ: what goes wrong elsewhere":         "faq-what-goes-wrong-elsewhere",
		"The `foo` option":                       "the-foo-option",
		"Fields & tags":                          "fields--tags",
		"Decisions where the issue was silent":   "decisions-where-the-issue-was-silent",
		"viper, koanf and livebind side by side": "viper-koanf-and-livebind-side-by-side",
		"[Linked](x.md) *emph* __strong__":       "linked-emph-strong",
		"snake_case_name":                        "snake_case_name",
		"Über größe 2":                           "über-größe-2",
		"  Trailing #  ":                         "trailing",
	} {
		if got := headingSlug(in); got != want {
			t.Errorf("headingSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeFixture(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

var (
	// inlineLink matches [text](target) and ![alt](target); the target ends
	// at whitespace (a title may follow) or the closing parenthesis.
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]*)[^)]*\)`)
	// refDef matches a reference definition: [label]: target.
	refDef      = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)`)
	codeSpan    = regexp.MustCompile("(`+)[^`]*?`+")
	atxHeading  = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*$`)
	htmlAnchor  = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	fenceOpen   = regexp.MustCompile("^\\s{0,3}(```+|~~~+)")
	setextUnder = regexp.MustCompile(`^\s{0,3}(=+|-+)\s*$`)
	mdLinkText  = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	// pathSpan matches a code span that names a file of the repository by
	// its relative path: a slash, a known extension, no spaces or variables,
	// and a first element that is not hidden (kubelet's ..data/app.toml is
	// a path on a node, not in the repository).
	pathSpan = regexp.MustCompile("`((?:\\.{1,2}/)?[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)+\\.(?:md|go|mod|toml|yaml|yml|json|txt|sh))`")
)

// checkDocLinks checks every relative link of the markdown files (paths
// relative to root) and returns one problem per broken link, as
// "file:line: target: reason". External links (with a scheme or starting
// with //) are not followed.
func checkDocLinks(root string, files []string) []string {
	var problems []string
	anchors := map[string]map[string]bool{} // cleaned path -> slugs
	anchorsOf := func(path string) (map[string]bool, error) {
		if a, ok := anchors[path]; ok {
			return a, nil
		}
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			return nil, err
		}
		a := docAnchors(string(b))
		anchors[path] = a
		return a, nil
	}
	for _, file := range files {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", file, err))
			continue
		}
		for _, l := range docLinks(string(b)) {
			if msg := checkDocLink(root, file, l.target, anchorsOf); msg != "" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", file, l.line, l.target, msg))
			}
		}
	}
	return problems
}

// checkDocLink returns why target, written in file, is broken, or "".
func checkDocLink(root, file, target string, anchorsOf func(string) (map[string]bool, error)) string {
	if target == "" || strings.HasPrefix(target, "//") {
		return ""
	}
	if p, ok := strings.CutPrefix(target, "code:"); ok {
		// A path in a code span may be relative to the document or to
		// the repository root.
		for _, dest := range []string{filepath.Join(filepath.Dir(file), p), p} {
			if _, err := os.Stat(filepath.Join(root, dest)); err == nil && filepath.IsLocal(dest) {
				return ""
			}
		}
		return "names a file that is not in the repository"
	}
	if u, err := url.Parse(target); err == nil && u.Scheme != "" {
		return ""
	}
	pathPart, anchor, _ := strings.Cut(target, "#")
	if p, err := url.PathUnescape(pathPart); err == nil {
		pathPart = p
	}
	dest := filepath.Clean(file) // a bare #anchor points into the same file
	if pathPart != "" {
		dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(pathPart))
	}
	if dest == ".." || strings.HasPrefix(dest, ".."+string(filepath.Separator)) || filepath.IsAbs(dest) {
		return "outside the repository"
	}
	info, err := os.Stat(filepath.Join(root, dest))
	if err != nil {
		return "no such file in the repository"
	}
	if anchor == "" || info.IsDir() || !strings.HasSuffix(dest, ".md") {
		return "" // anchors into code (#L10) are GitHub's line links
	}
	a, err := anchorsOf(dest)
	if err != nil {
		return err.Error()
	}
	if dec, err := url.PathUnescape(anchor); err == nil {
		anchor = dec
	}
	if !a[strings.ToLower(anchor)] {
		return "no heading with that anchor in " + filepath.ToSlash(dest)
	}
	return ""
}

type docLink struct {
	line   int
	target string
}

// docLines calls fn for every line outside fenced code blocks.
func docLines(doc string, fn func(n int, line string)) {
	fence := ""
	for i, line := range strings.Split(doc, "\n") {
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			switch {
			case fence == "":
				fence = m[1]
			case strings.HasPrefix(m[1], fence[:1]) && len(m[1]) >= len(fence):
				fence = ""
			}
			continue
		}
		if fence == "" {
			fn(i+1, line)
		}
	}
}

// docLinks returns the link targets of a markdown document, outside code.
func docLinks(doc string) []docLink {
	var links []docLink
	docLines(doc, func(n int, line string) {
		if m := refDef.FindStringSubmatch(line); m != nil {
			links = append(links, docLink{n, strings.Trim(m[1], "<>")})
			return
		}
		for _, m := range pathSpan.FindAllStringSubmatch(line, -1) {
			links = append(links, docLink{n, "code:" + m[1]})
		}
		line = codeSpan.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			links = append(links, docLink{n, strings.Trim(m[1], "<>")})
		}
	})
	return links
}

// docAnchors returns the anchors GitHub generates for a document's headings
// (ATX and setext, numbered -1, -2 when repeated) plus explicit
// <a name=".."> and <a id=".."> anchors.
func docAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	add := func(text string) {
		slug := headingSlug(text)
		if n := seen[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	prev := ""
	docLines(doc, func(_ int, line string) {
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			anchors[strings.ToLower(m[1])] = true
		}
		switch {
		case atxHeading.MatchString(line):
			add(atxHeading.FindStringSubmatch(line)[2])
			line = ""
		case setextUnder.MatchString(line) && strings.TrimSpace(prev) != "" && !atxHeading.MatchString(prev):
			add(prev)
			line = ""
		}
		prev = line
	})
	return anchors
}

// headingSlug is GitHub's anchor for a heading: the rendered text in lower
// case, spaces turned into '-', and every character that is not a letter,
// a digit, '-' or '_' dropped. A closing run of '#' is not part of the text.
func headingSlug(text string) string {
	text = strings.TrimSpace(text)
	if t := strings.TrimRight(text, "#"); t != text && (t == "" || strings.HasSuffix(t, " ")) {
		text = strings.TrimSpace(t)
	}
	text = mdLinkText.ReplaceAllString(text, "$1")
	text = strings.NewReplacer("`", "", "*", "", "__", "").Replace(text)
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimLeft(text, " ")) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestMigratingGuideAPI keeps the livebind program in docs/migrating.md in
// step with the package: it must parse as Go, and every livebind.Name and
// b.Method it uses must exist (the viper and koanf versions were compiled
// outside the repository; see the guide's last section).
func TestMigratingGuideAPI(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("docs", "migrating.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "\n## With livebind\n")
	if !ok {
		t.Fatal(`docs/migrating.md has no "## With livebind" section`)
	}
	_, rest, ok = strings.Cut(rest, "```go\n")
	if !ok {
		t.Fatal("no go code block in the livebind section")
	}
	src, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatal("unterminated go code block in the livebind section")
	}
	missing, err := guideAPIMissing(src, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("docs/migrating.md uses %s, which the package does not have", m)
	}
}

// TestGuideAPIMissingCatchesRenames shows the check fails for a method or a
// function the package does not have.
func TestGuideAPIMissingCatchesRenames(t *testing.T) {
	t.Parallel()
	src := `package main

import "github.com/livebind/livebind"

func main() {
	b, _ := livebind.Bind(nil, &struct{}{})
	b.Get()
	b.OnUpdate(nil)
	livebind.Watch(b)
	_ = livebind.Updated
}
`
	got, err := guideAPIMissing(src, ".")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"b.OnUpdate", "livebind.Watch"}
	if !slices.Equal(got, want) {
		t.Fatalf("missing = %q, want %q", got, want)
	}
}

// guideAPIMissing parses a program and returns the livebind.Name and b.Method
// references (b being the result of livebind.Bind) that the package in dir
// does not declare.
func guideAPIMissing(src, dir string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "guide.go", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	decls := map[string]bool{}
	methods := map[string]bool{}
	pkgFiles, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	for _, p := range pkgFiles {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range pf.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					decls[d.Name.Name] = true
				} else if recvIsBinding(d.Recv.List[0].Type) {
					methods[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						decls[s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							decls[n.Name] = true
						}
					}
				}
			}
		}
	}
	var missing []string
	seen := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		var ref string
		switch {
		case id.Name == "livebind" && !decls[sel.Sel.Name]:
			ref = "livebind." + sel.Sel.Name
		case id.Name == "b" && !methods[sel.Sel.Name]:
			ref = "b." + sel.Sel.Name
		}
		if ref != "" && !seen[ref] {
			seen[ref] = true
			missing = append(missing, ref)
		}
		return true
	})
	return missing, nil
}

// recvIsBinding reports whether a receiver type is *Binding[T] or Binding[T].
func recvIsBinding(e ast.Expr) bool {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if ix, ok := e.(*ast.IndexExpr); ok {
		e = ix.X
	}
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "Binding"
}

// codeAnchor matches a code anchor in prose, "name (file.go:N)" or
// "`name[T]` (file.go:N)": the name that stands before it is what the
// line must declare or hold.
var codeAnchor = regexp.MustCompile("([A-Za-z_][A-Za-z0-9_]*)(?:\\[T\\])?`? \\(([A-Za-z0-9_/]+\\.go):([0-9]+)\\)")

// TestDocsCodeAnchors fails on a "name (file.go:N)" anchor in README.md or
// docs/ whose line N does not hold name: anchors into the code drift with
// every edit above them, and a newcomer following the pipeline picture of
// docs/design.md must land on the function it names.
func TestDocsCodeAnchors(t *testing.T) {
	t.Parallel()
	files := []string{"README.md"}
	mds, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, mds...)
	found := 0
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		problems, n := checkCodeAnchors(".", f, string(doc))
		found += n
		for _, p := range problems {
			t.Error(p)
		}
	}
	if found < 10 {
		t.Fatalf("found %d code anchors: docs/design.md's pipeline picture has more; is the pattern still right?", found)
	}
}

// TestDocsCodeAnchorsCatchesDrift runs the checker on a synthetic document
// and source file: an anchor one line off, past the end, into a missing
// file must each be reported; a right one must not.
func TestDocsCodeAnchorsCatchesDrift(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFixture(t, filepath.Join(root, "a.go"), "package a\n\n// run runs.\nfunc run() {}\n\ntype applier[T any] struct{}\n")
	for doc, want := range map[string]string{
		"run (a.go:4) and `applier[T]` (a.go:6)": "",
		"run (a.go:3)":                           "a.go:3 does not hold run", // only its comment does
		"run (a.go:40)":                          "a.go:40: past the end",
		"run (gone.go:4)":                        "gone.go",
	} {
		problems, n := checkCodeAnchors(root, "doc.md", doc)
		switch {
		case n == 0:
			t.Errorf("%q: no anchor found", doc)
		case want == "" && len(problems) > 0:
			t.Errorf("%q: problems %q, want none", doc, problems)
		case want != "" && (len(problems) != 1 || !strings.Contains(problems[0], want)):
			t.Errorf("%q: problems %q, want one containing %q", doc, problems, want)
		}
	}
}

// checkCodeAnchors returns the problems of doc's code anchors (file names
// are relative to root) and how many anchors it found. The named line must
// hold the name outside a comment.
func checkCodeAnchors(root, name, doc string) ([]string, int) {
	var problems []string
	n := 0
	lines := map[string][]string{}
	for i, line := range strings.Split(doc, "\n") { // code blocks too: the picture is one
		ln := i + 1
		for _, m := range codeAnchor.FindAllStringSubmatch(line, -1) {
			n++
			ident, file := m[1], m[2]
			at := fmt.Sprintf("%s:%d: %s (%s:%s)", name, ln, ident, file, m[3])
			src, ok := lines[file]
			if !ok {
				data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", at, err))
					continue
				}
				src = strings.Split(string(data), "\n")
				lines[file] = src
			}
			var num int
			if _, err := fmt.Sscan(m[3], &num); err != nil || num < 1 || num > len(src) {
				problems = append(problems, fmt.Sprintf("%s: %s:%s: past the end of the file", at, file, m[3]))
				continue
			}
			code, _, _ := strings.Cut(src[num-1], "//")
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(ident) + `\b`).MatchString(code) {
				problems = append(problems, fmt.Sprintf("%s: %s:%d does not hold %s (it holds %q)", at, file, num, ident, strings.TrimSpace(src[num-1])))
			}
		}
	}
	return problems, n
}
