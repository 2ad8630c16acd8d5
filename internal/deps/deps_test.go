package deps

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		nodes   []string
		deps    map[string][]string
		want    []string
		wantErr string
	}{
		{name: "none", nodes: []string{"A", "B", "C"}, want: []string{"A", "B", "C"}},
		{name: "chain", nodes: []string{"C", "B", "A"}, deps: map[string][]string{"C": {"B"}, "B": {"A"}}, want: []string{"A", "B", "C"}},
		{name: "diamond", nodes: []string{"D", "B", "C", "A"}, deps: map[string][]string{"D": {"B", "C"}, "B": {"A"}, "C": {"A"}}, want: []string{"A", "B", "C", "D"}},
		{name: "self", nodes: []string{"A"}, deps: map[string][]string{"A": {"A"}}, wantErr: "dependency cycle: A -> A"},
		{name: "cycle", nodes: []string{"X", "A", "B", "C"}, deps: map[string][]string{"A": {"B"}, "B": {"C"}, "C": {"A"}}, wantErr: "dependency cycle: A -> B -> C -> A"},
		{name: "unknown", nodes: []string{"A"}, deps: map[string][]string{"A": {"Nope"}}, wantErr: "A depends on unknown Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Sort(tt.nodes, tt.deps)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := Sort([]string{"A", "B"}, map[string][]string{"A": {"B"}, "B": {"A"}})
	var ce *CycleError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, []string{"A", "B", "A"}, ce.Path)
}

// FuzzSort checks on random graphs that Sort never panics, that a result is
// a permutation respecting every edge, and that a cycle error names a real
// cycle.
func FuzzSort(f *testing.F) {
	f.Add("A>B,B>C", 3)
	f.Add("A>A", 1)
	f.Add("A>B,B>A,C>A", 3)
	f.Fuzz(func(t *testing.T, edges string, n int) {
		n = max(1, min(n, 8))
		nodes := make([]string, n)
		for i := range nodes {
			nodes[i] = string(rune('A' + i))
		}
		dependsOn := map[string][]string{}
		for _, e := range strings.Split(edges, ",") {
			a, b, ok := strings.Cut(e, ">")
			if ok && slices.Contains(nodes, a) && slices.Contains(nodes, b) {
				dependsOn[a] = append(dependsOn[a], b)
			}
		}
		order, err := Sort(nodes, dependsOn)
		var ce *CycleError
		if errors.As(err, &ce) {
			p := ce.Path
			if len(p) < 2 || p[0] != p[len(p)-1] {
				t.Fatalf("bad cycle %v", p)
			}
			for i := 0; i+1 < len(p); i++ {
				if !slices.Contains(dependsOn[p[i]], p[i+1]) {
					t.Fatalf("cycle %v has no edge %s>%s", p, p[i], p[i+1])
				}
			}
			return
		}
		require.NoError(t, err)
		require.ElementsMatch(t, nodes, order)
		pos := map[string]int{}
		for i, x := range order {
			pos[x] = i
		}
		for a, ds := range dependsOn {
			for _, d := range ds {
				if pos[d] > pos[a] {
					t.Fatalf("%s before its dependency %s in %v", a, d, order)
				}
			}
		}
	})
}
