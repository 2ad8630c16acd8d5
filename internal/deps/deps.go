// Package deps orders a set of named nodes by their dependencies and finds
// cycles. livebind uses it for depends_on= between fields.
package deps

import (
	"fmt"
	"strings"
)

// CycleError reports a dependency cycle. Path starts and ends with the same
// node: [A B A] means A depends on B and B on A.
type CycleError struct {
	Path []string
}

// Error names the cycle as "A -> B -> A".
func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Path, " -> ")
}

// UnknownError reports a dependency on a node that does not exist.
type UnknownError struct {
	Node, Dependency string
}

// Error names the node and its unknown dependency.
func (e *UnknownError) Error() string {
	return fmt.Sprintf("%s depends on unknown %s", e.Node, e.Dependency)
}

// Sort returns nodes ordered so that every node comes after the nodes it
// depends on. Among nodes that do not depend on each other the input order is
// kept, so the result is deterministic. dependsOn maps a node to the nodes it
// depends on. It returns an *UnknownError for a dependency that is not in
// nodes, or a *CycleError naming the first cycle found.
func Sort(nodes []string, dependsOn map[string][]string) ([]string, error) {
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		index[n] = i
	}
	for _, n := range nodes {
		for _, d := range dependsOn[n] {
			if _, ok := index[d]; !ok {
				return nil, &UnknownError{Node: n, Dependency: d}
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(nodes))
	order := make([]string, 0, len(nodes))
	var stack []string
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			start := 0
			for j, s := range stack {
				if s == nodes[i] {
					start = j
					break
				}
			}
			path := append(append([]string(nil), stack[start:]...), nodes[i])
			return &CycleError{Path: path}
		}
		state[i] = visiting
		stack = append(stack, nodes[i])
		for _, d := range dependsOn[nodes[i]] {
			if err := visit(index[d]); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		order = append(order, nodes[i])
		return nil
	}
	for i := range nodes {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}
