package livebind

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// condition is a compiled when= expression of a target.
type condition struct {
	src     string
	program *vm.Program
	// What the expression can read of the struct, by index of its fields
	// (see conditionReach): the fields an evaluation copies deeply.
	reads    []bool
	readsAll bool
	// inline: the expression calls no user code and has no loop
	// (conditionInline), so it runs on the caller, on the candidate.
	inline bool
}

// newCondition compiles src over the struct type t and works out what it
// can read.
func newCondition(src string, t reflect.Type) (*condition, error) {
	prog, err := compileCondition(src, t)
	if err != nil {
		return nil, err
	}
	c := &condition{src: src, program: prog}
	c.reads, c.readsAll = conditionReach(src, prog.Node(), t)
	c.inline = conditionInline(prog.Node(), t)
	return c, nil
}

// conditionInline reports whether the compiled expression node is made
// only of steps that call no user code and take a time bounded by one
// value they compare: literals, fields of the struct (by name, and their
// struct members), the conversions underlyingKinds inserts, comparisons
// of numbers, strings and booleans (== != < <= > >=, and in against a
// list of literals), and, or, not and ?:. Such an expression has no loop
// and no method to block or call runtime.Goexit, and no value a source
// provides can make it slow (comparing two 16 MiB strings takes about a
// millisecond), so evalCondition runs it at once on the candidate itself:
// nothing needs a timeout, a goroutine or a copy. Any other node (a
// builtin, a predicate, a method, arithmetic, a concatenation, a
// comparison of lists or maps) leaves it to the evaluator.
func conditionInline(node ast.Node, t reflect.Type) bool {
	fields := fieldNames(t)
	pt := reflect.PointerTo(t)
	ok := true
	ast.Walk(&node, reachVisitor(func(n ast.Node) {
		switch n := n.(type) {
		case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode,
			*ast.ConditionalNode, *ast.ChainNode:
		case *ast.ConstantNode:
			if n.Value != nil && !isBasic(reflect.TypeOf(n.Value)) && !isLiteralSet(n.Value) {
				ok = false
			}
		case *ast.IdentifierNode: // a field, or the callee of a conversion (see CallNode)
			_, isMethod := pt.MethodByName(n.Value)
			_, isField := fields[n.Value]
			if isMethod || !isField && (!conditionFuncs[n.Value] || conditionLoops[n.Value]) {
				ok = false
			}
		case *ast.MemberNode:
			if _, name := n.Property.(*ast.StringNode); !name || n.Method || !isStruct(n.Node.Type()) {
				ok = false
			}
		case *ast.CallNode:
			if id, fn := n.Callee.(*ast.IdentifierNode); !fn || !conditionFuncs[id.Value] || conditionLoops[id.Value] {
				ok = false
			}
		case *ast.UnaryNode:
			switch n.Operator {
			case "!", "not", "-", "+":
			default:
				ok = false
			}
		case *ast.BinaryNode:
			switch n.Operator {
			case "&&", "||", "and", "or":
			case "==", "!=", "<", "<=", ">", ">=":
				if !isBasic(n.Left.Type()) || !isBasic(n.Right.Type()) {
					ok = false
				}
			case "in", "not in":
				if _, set := n.Right.(*ast.ConstantNode); !set || !isBasic(n.Left.Type()) {
					ok = false
				}
			default:
				ok = false
			}
		default:
			ok = false
		}
	}))
	return ok
}

// isBasic reports whether t is a boolean, number or string type, whose
// comparison calls no user code and takes at most the time of reading
// the string.
func isBasic(t reflect.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// isStruct reports whether t is a struct or a pointer to one: a member
// of it is a field, read without user code.
func isStruct(t reflect.Type) bool {
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Struct
}

// isLiteralSet reports whether v is the set expr's optimizer makes of a
// list of literals on the right of in: a map from a basic type to
// struct{}, whose size the expression fixes.
func isLiteralSet(v any) bool {
	t := reflect.TypeOf(v)
	return t.Kind() == reflect.Map && isBasic(t.Key()) && t.Elem() == reflect.TypeFor[struct{}]()
}

// canRead reports whether the expression can read the struct's field i
// (an index of the struct type, the first of a field's index path).
func (c *condition) canRead(i int) bool {
	return c.readsAll || i < len(c.reads) && c.reads[i]
}

// conditionReach says which fields of the struct type t the expression
// src, compiled to node, can read: reads[i] for t.Field(i), or all when it
// can read any field. It reads the names in src itself, not the compiled
// tree: expr's optimizer folds parts of the tree into nodes that ast.Walk
// does not visit (the function of map(filter(xs, p), f) is kept in the
// filter node's Map), and a name missed there would be a field the copy
// leaves shared with the candidate. Every name the expression uses is in
// its source. A name that follows a dot (a member, or the .Field of a
// predicate) is reached through what it is a member of; #acc and #index
// are the predicate's, and true, false and nil literals. Any other name is
// a field (by its Go name or its expr tag; a promoted field counts as the
// embedded field that holds it), a method of T or *T (which can read any
// field: all), the whole environment $env (all), a let variable (declared
// in node), one of expr's builtins or a function livebind registers; a
// name that is none of these counts as all. What a field leads to (its
// elements, its methods) is reached through the field itself, so copying
// it deeply gives the expression all it can see.
func conditionReach(src string, node ast.Node, t reflect.Type) (reads []bool, all bool) {
	tokens, err := lexer.Lex(file.NewSource(src))
	if err != nil {
		return nil, true // it compiled, so this does not happen
	}
	declared := map[string]bool{}
	ast.Walk(&node, reachVisitor(func(n ast.Node) {
		if n, ok := n.(*ast.VariableDeclaratorNode); ok {
			declared[n.Name] = true
		}
	}))
	byName := fieldNames(t)
	reads = make([]bool, t.NumField())
	pt := reflect.PointerTo(t)
	for i, tok := range tokens {
		if tok.Kind != lexer.Identifier {
			continue
		}
		if i > 0 && tokens[i-1].Is(lexer.Operator, ".", "?.", "#") {
			continue // a member, or #acc and #index
		}
		name := tok.Value
		if name == "true" || name == "false" || name == "nil" {
			continue
		}
		idx, isField := byName[name]
		_, isMethod := pt.MethodByName(name)
		switch {
		case name == "$env" || isMethod:
			return nil, true
		case isField:
			for _, i := range idx {
				reads[i] = true
			}
		case declared[name] || conditionFuncs[name]:
		default:
			if _, ok := builtin.Index[name]; !ok {
				return nil, true
			}
		}
	}
	return reads, false
}

// fieldNames maps the names an expression can give t's fields (the Go
// name, and the expr tag's) to the indexes of t's fields that hold them
// (an embedded field for a promoted one).
func fieldNames(t reflect.Type) map[string][]int {
	byName := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		byName[f.Name] = append(byName[f.Name], f.Index[0])
		if tag := f.Tag.Get("expr"); tag != "" && tag != "-" {
			byName[tag] = append(byName[tag], f.Index[0])
		}
	}
	return byName
}

// reachVisitor adapts a function to ast.Visitor. It also visits what
// ast.Walk leaves out: the function of map(filter(xs, p), f), which expr's
// optimizer folds into the filter node as its Map, where ast.Walk does not
// go, though the program runs it on every element that passes.
type reachVisitor func(ast.Node)

// Visit implements ast.Visitor.
func (v reachVisitor) Visit(n *ast.Node) {
	if b, ok := (*n).(*ast.BuiltinNode); ok && b.Map != nil {
		ast.Walk(&b.Map, v)
	}
	v(*n)
}

// conditionFuncs are the functions compileCondition registers.
var conditionFuncs = map[string]bool{
	underlyingString: true, underlyingInt: true, underlyingUint: true,
	underlyingFloat: true, underlyingBool: true, "repeat": true,
	concatString: true, concatAny: true,
}

// conditionLoops are the functions of conditionFuncs whose cost grows
// with the values they get (up to maxRepeat bytes): an expression that
// calls one is not inline.
var conditionLoops = map[string]bool{"repeat": true, concatString: true, concatAny: true}

// compileCondition compiles a when= expression over the struct type t. A
// field of a named type with a basic underlying kind (type AppMode string,
// type Level int) is read as its underlying kind, so `Mode == "dev"` and
// `Level > 2` compile as they would in Go with untyped constants. Types of
// the time package (time.Duration) keep their own type, which expr knows.
func compileCondition(src string, t reflect.Type) (*vm.Program, error) {
	return expr.Compile(src,
		expr.Env(reflect.New(t).Interface()),
		expr.AsBool(),
		expr.Patch(underlyingKinds{}),
		expr.Function(underlyingString, func(p ...any) (any, error) { return reflect.ValueOf(p[0]).String(), nil }, new(func(any) string)),
		expr.Function(underlyingInt, func(p ...any) (any, error) { return int(reflect.ValueOf(p[0]).Int()), nil }, new(func(any) int)),
		expr.Function(underlyingUint, func(p ...any) (any, error) { return uint(reflect.ValueOf(p[0]).Uint()), nil }, new(func(any) uint)),
		expr.Function(underlyingFloat, func(p ...any) (any, error) { return reflect.ValueOf(p[0]).Float(), nil }, new(func(any) float64)),
		expr.Function(underlyingBool, func(p ...any) (any, error) { return reflect.ValueOf(p[0]).Bool(), nil }, new(func(any) bool)),
		expr.Function("repeat", boundedRepeat, new(func(string, int) string)),
		expr.Patch(boundedConcat{}),
		expr.Function(concatString, addBounded, new(func(string, string) string)),
		expr.Function(concatAny, addBounded, new(func(any, any) any)),
	)
}

// maxRepeat bounds the length of what repeat returns in a when= expression,
// and of a string + makes.
const maxRepeat = 16 << 20

// boundedConcat turns every + that can join two strings (both operands
// strings, or of a type known only at run time, as #acc in reduce) into a
// call of addBounded: expr charges its memory budget for ranges and some
// builtins but not for +, so reduce(Items, #acc + Pad, "") built a string
// of len(Items) times len(Pad) bytes, and copied the square of that on
// the way. A + with an operand of another known type (a number, a
// duration, a time) cannot join strings and stays expr's own. The call's
// type is string when an operand is known to be one, as +'s was.
type boundedConcat struct{}

// Visit implements ast.Visitor.
func (boundedConcat) Visit(n *ast.Node) {
	b, ok := (*n).(*ast.BinaryNode)
	if !ok || b.Operator != "+" {
		return
	}
	l, r := b.Left.Type(), b.Right.Type()
	if !maybeString(l) || !maybeString(r) {
		return
	}
	fn := concatAny
	if l != nil && l.Kind() == reflect.String || r != nil && r.Kind() == reflect.String {
		fn = concatString
	}
	ast.Patch(n, &ast.CallNode{Callee: &ast.IdentifierNode{Value: fn}, Arguments: []ast.Node{b.Left, b.Right}})
}

// maybeString reports whether an operand of type t (nil: unknown until run
// time) can be a string.
func maybeString(t reflect.Type) bool {
	return t == nil || t.Kind() == reflect.String || t.Kind() == reflect.Interface
}

// addBounded is + for the operands boundedConcat passes it: two strings
// join unless the result would pass maxRepeat bytes; anything else is
// expr's own + (runtime.Add, which panics on operands it cannot add, as
// the + it replaces did; the VM reports that as an error).
func addBounded(p ...any) (any, error) {
	a, aok := p[0].(string)
	b, bok := p[1].(string)
	if !aok || !bok {
		return runtime.Add(p[0], p[1]), nil
	}
	if len(a) > maxRepeat-len(b) {
		return nil, fmt.Errorf("+: %d and %d bytes make a string over the %d-byte limit", len(a), len(b), maxRepeat)
	}
	return a + b, nil
}

// boundedRepeat replaces expr's repeat, which refuses a count over a
// million but not a result of the string's length times the count: a
// 1 MiB value repeated a million times asked the runtime for 1 TB, a
// fatal error that no recover stops. This one refuses a result over
// maxRepeat bytes before it allocates.
func boundedRepeat(p ...any) (any, error) {
	s, _ := p[0].(string)
	n := reflect.ValueOf(p[1])
	if !n.CanInt() {
		return nil, fmt.Errorf("repeat: the count is a %T, not an integer", p[1])
	}
	count := n.Int()
	switch {
	case count < 0:
		return nil, fmt.Errorf("repeat: negative count %d", count)
	case count > 0 && int64(len(s)) > maxRepeat/count:
		return nil, fmt.Errorf("repeat: %d times %d bytes is over the %d-byte limit", count, len(s), maxRepeat)
	}
	return strings.Repeat(s, int(count)), nil
}

// The conversion functions underlyingKinds inserts, under names no
// configuration struct uses.
const (
	underlyingString = "_livebind_string"
	underlyingInt    = "_livebind_int"
	underlyingUint   = "_livebind_uint"
	underlyingFloat  = "_livebind_float"
	underlyingBool   = "_livebind_bool"
	concatString     = "_livebind_concat"
	concatAny        = "_livebind_add"
)

// underlyingKinds wraps every field read of a named basic type in the
// conversion to its underlying kind.
type underlyingKinds struct{}

// Visit implements ast.Visitor.
func (underlyingKinds) Visit(n *ast.Node) {
	switch (*n).(type) {
	case *ast.IdentifierNode, *ast.MemberNode:
	default:
		return
	}
	t := (*n).Type()
	if t == nil || t.PkgPath() == "" || t.PkgPath() == "time" {
		return
	}
	var fn string
	switch t.Kind() {
	case reflect.String:
		fn = underlyingString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fn = underlyingInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		fn = underlyingUint
	case reflect.Float32, reflect.Float64:
		fn = underlyingFloat
	case reflect.Bool:
		fn = underlyingBool
	default:
		return
	}
	ast.Patch(n, &ast.CallNode{Callee: &ast.IdentifierNode{Value: fn}, Arguments: []ast.Node{*n}})
}

// untaggedAliases returns the untagged fields (as the expression selects
// them: "Flags", "DB.Pool") that the compiled expression node, over the
// struct type t, reads through: a map, slice or pointer it indexes,
// ranges over, follows or measures, an interface, or a value it reads
// whole that holds one. Untagged fields belong to the caller: every copy
// of the struct shares what they point to, so such an expression reads
// the caller's memory while Validate, an update= method or the caller's
// goroutines change it, from an evaluation that may run on alone in the
// background (evalCondition). What an expression may do with an untagged
// field: read a member of an untagged struct value (its own copy),
// compare the field with nil, and call a method on it (user code, which
// reads what its author chose).
func untaggedAliases(node ast.Node, t reflect.Type) []string {
	declared := map[string]bool{}
	notRead := map[ast.Node]bool{} // only a member's struct, a method's receiver, or compared with nil
	ast.Walk(&node, reachVisitor(func(n ast.Node) {
		switch n := n.(type) {
		case *ast.VariableDeclaratorNode:
			declared[n.Name] = true
		case *ast.MemberNode:
			if _, name := n.Property.(*ast.StringNode); name || n.Method {
				notRead[n.Node] = true
			}
		case *ast.BinaryNode:
			if n.Operator == "==" || n.Operator == "!=" {
				if _, isNil := n.Left.(*ast.NilNode); isNil {
					notRead[n.Right] = true
				}
				if _, isNil := n.Right.(*ast.NilNode); isNil {
					notRead[n.Left] = true
				}
			}
		}
	}))
	var found []string
	ast.Walk(&node, reachVisitor(func(n ast.Node) {
		names, ok := selector(n, declared)
		if !ok {
			return
		}
		if p := throughUntagged(t, names, !notRead[n]); p != "" && !slices.Contains(found, p) {
			found = append(found, p)
		}
	}))
	return found
}

// selector returns the names by which n selects a value from the
// expression's environment ($env, or a bare name, then members named by
// a constant), or false if n is no such selection.
func selector(n ast.Node, declared map[string]bool) ([]string, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		switch {
		case n.Value == "$env":
			return []string{}, true
		case declared[n.Value]:
			return nil, false
		}
		return []string{n.Value}, true
	case *ast.MemberNode:
		name, ok := n.Property.(*ast.StringNode)
		if !ok || n.Method {
			return nil, false
		}
		base, ok := selector(n.Node, declared)
		if !ok {
			return nil, false
		}
		return append(base, name.Value), true
	}
	return nil, false
}

// throughUntagged follows names from the struct type t and returns the
// selector of the first untagged field on the way that the selection reads
// through (a pointer it follows, a map or interface it takes a member of)
// or, if whole is set, that the selected value is or holds (a map, slice,
// pointer or interface in an untagged part of it). A tagged field on the
// way ends the search: the library built it and copies it deeply. A name
// that is no field (a method, a function) selects nothing to check.
func throughUntagged(t reflect.Type, names []string, whole bool) string {
	cur, sel := t, ""
	for _, name := range names {
		if cur.Kind() != reflect.Struct {
			return cmp.Or(sel, "$env") // a member of an untagged map, pointer or interface
		}
		f, ok := fieldByExprName(cur, name)
		if !ok {
			return ""
		}
		sel = strings.TrimPrefix(sel+"."+f.Name, ".")
		for i, x := range f.Index {
			sf := cur.Field(x)
			if tag, tagged := sf.Tag.Lookup("live"); tagged && tag != "-" {
				return "" // the library's own value, deep copied
			}
			cur = sf.Type
			if i < len(f.Index)-1 && cur.Kind() == reflect.Pointer {
				return sel // a field promoted through an embedded pointer
			}
		}
	}
	if whole && holdsUntaggedAlias(cur) {
		return cmp.Or(sel, "$env")
	}
	return ""
}

// fieldByExprName finds the field of struct type t that an expression
// names name: by its expr tag if it has one, else by its Go name,
// promoted fields included.
func fieldByExprName(t reflect.Type, name string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(t) {
		tag := f.Tag.Get("expr")
		if tag == name || tag == "" && f.Name == name {
			return f, f.IsExported()
		}
	}
	return reflect.StructField{}, false
}

// holdsUntaggedAlias reports whether a value of type t, copied by
// assignment with its tagged fields deep copied (copyConfig), still
// shares memory with its original: t is or holds, outside tagged fields,
// a map, slice, pointer or interface.
func holdsUntaggedAlias(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return typeNeedsCopy(t)
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		if tag, tagged := sf.Tag.Lookup("live"); tagged && tag != "-" {
			continue
		}
		if holdsUntaggedAlias(sf.Type) {
			return true
		}
	}
	return false
}
