# shellcheck shell=bash
# Pinned CI tools for livebind. Source this file, then call the ensure_* functions;
# each prints the absolute path of the binary on stdout (progress goes to stderr).
#
# Tools are cached outside the repository, keyed by version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/livebind-tools/<name>-<version>/<binary>
# A tool is built with `go install` only when that file is missing (or was built by
# a Go release of a different major.minor than the current one, since linters must
# be built with a Go at least as new as the code they analyse). Bump a version here
# and the next run builds it into a new directory; old directories can be deleted.

GOLANGCI_LINT_VERSION=v2.15.0
STATICCHECK_VERSION=v0.8.2

# Go and this cache both need a home directory; some CI runners start without $HOME.
if [[ -z ${HOME:-} ]]; then
	HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
	export HOME="${HOME:-/root}"
fi
LIVEBIND_TOOLS_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/livebind-tools"

# _go_minor prints "goX.Y" for a version string like "go1.26.8" or "go1.26rc1".
_go_minor() {
	sed -E 's/^(go[0-9]+\.[0-9]+).*/\1/' <<<"$1"
}

# ensure_tool NAME VERSION PACKAGE BINARY
ensure_tool() {
	local name=$1 version=$2 pkg=$3 bin=$4
	local dir="$LIVEBIND_TOOLS_DIR/$name-$version"
	local path="$dir/$bin"

	if [[ -x $path ]]; then
		local built want
		built=$(go version "$path" 2>/dev/null | awk '{print $NF}') || built=
		want=$(go env GOVERSION)
		if [[ -n $built && $(_go_minor "$built") == "$(_go_minor "$want")" ]]; then
			echo "tools: using cached $name $version ($path, built with $built)" >&2
			echo "$path"
			return 0
		fi
		echo "tools: cached $name $version was built with ${built:-unknown Go}, current is $want; rebuilding" >&2
	fi

	echo "tools: building $name $version (go install $pkg@$version); this can take several minutes" >&2
	mkdir -p "$dir"
	local tmp
	tmp=$(mktemp -d "$LIVEBIND_TOOLS_DIR/.build-$name-XXXXXX")
	# Build outside the repository so its go.mod plays no part; install into a
	# temporary directory and rename into place so a half-built binary is never cached.
	if ! (cd "$tmp" && GOBIN="$tmp" GOFLAGS="" go install "$pkg@$version") >&2; then
		rm -rf "$tmp"
		echo "tools: failed to build $name $version" >&2
		return 1
	fi
	mv -f "$tmp/$bin" "$path"
	rm -rf "$tmp"
	echo "tools: installed $path" >&2
	echo "$path"
}

ensure_golangci_lint() {
	ensure_tool golangci-lint "$GOLANGCI_LINT_VERSION" \
		github.com/golangci/golangci-lint/v2/cmd/golangci-lint golangci-lint
}

ensure_staticcheck() {
	ensure_tool staticcheck "$STATICCHECK_VERSION" \
		honnef.co/go/tools/cmd/staticcheck staticcheck
}
