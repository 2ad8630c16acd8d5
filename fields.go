package livebind

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// fieldPlan is what livebind learns once about one tagged field of a type.
type fieldPlan struct {
	path   string       // "DB.Password"
	goName string       // the full selector, embedded types included: "Inner.Port"
	index  []int        // for reflect.Value.FieldByIndex
	typ    reflect.Type // the field's type
	tag    *compiledTag
	when   *condition // the compiled when= expression, if any
}

// typePlan is the per-type analysis, cached like encoding/json's field cache.
type typePlan struct {
	fields      []fieldPlan
	hasValidate bool
	err         error // joined *FieldError for tag problems found by type
}

var planCache sync.Map // reflect.Type -> *typePlan

// validator is implemented by configuration structs that check themselves.
type validator interface{ Validate() error }

// planFor returns the cached plan for the struct type t.
func planFor(t reflect.Type) *typePlan {
	if p, ok := planCache.Load(t); ok {
		return p.(*typePlan)
	}
	p := buildPlan(t)
	actual, _ := planCache.LoadOrStore(t, p)
	return actual.(*typePlan)
}

func buildPlan(t reflect.Type) *typePlan {
	p := &typePlan{hasValidate: reflect.PointerTo(t).Implements(reflect.TypeFor[validator]())}
	var errs []error
	walkFields(t, nil, "", "", map[reflect.Type]bool{t: true}, p, &errs)
	p.dropDuplicates(&errs)
	for i := range p.fields {
		f := &p.fields[i]
		if src := f.tag.opts.when; src != "" {
			c, err := newCondition(src, t)
			if err != nil {
				errs = append(errs, tagError(f.path, "when", fmt.Errorf("%q does not compile: %w", src, err)))
				f.tag.invalid = true
				continue
			}
			if sel := untaggedAliases(c.program.Node(), t); len(sel) > 0 {
				errs = append(errs, tagError(f.path, "when", fmt.Errorf(
					"%q reads through untagged %s (a map, slice, pointer or interface): every copy of the struct shares what an untagged field points to, and an evaluation may run on in the background after 1 s, so it would race with Validate or the code that changes it; tag the field, or compare it only with nil (a method the expression calls may read it, if nothing changes it while an evaluation runs)",
					src, untaggedNames(sel))))
				f.tag.invalid = true
				continue
			}
			f.when = c
		}
	}
	p.err = errors.Join(errs...)
	return p
}

// walkFields collects tagged fields, descending into untagged struct fields.
func walkFields(t reflect.Type, index []int, prefix, goPrefix string, visiting map[reflect.Type]bool, p *typePlan, errs *[]error) {
	for i := range t.NumField() {
		sf := t.Field(i)
		path := prefix + sf.Name
		goName := goPrefix + sf.Name
		idx := append(append([]int(nil), index...), i)
		tag, tagged := sf.Tag.Lookup("live")
		if tag == "-" {
			continue
		}
		if tagged {
			if !sf.IsExported() {
				*errs = append(*errs, tagError(path, "", errors.New("live tag on an unexported field")))
				continue
			}
			spec, err := parseTag(tag)
			if err != nil {
				*errs = append(*errs, tagError(path, "", err))
				continue
			}
			if err := checkDecodable(sf.Type); err != nil {
				*errs = append(*errs, tagError(path, "", err))
				continue
			}
			ct, err := compileTag(path, spec)
			if err != nil {
				*errs = append(*errs, err)
			}
			p.fields = append(p.fields, fieldPlan{path: path, goName: goName, index: idx, typ: sf.Type, tag: &ct})
			continue
		}
		ft := sf.Type
		switch {
		case ft.Kind() == reflect.Struct && !visiting[ft]:
			if !sf.IsExported() && !sf.Anonymous {
				if hasLiveTags(ft, map[reflect.Type]bool{}) {
					*errs = append(*errs, tagError(path, "", errors.New("live tags inside an unexported field")))
				}
				continue
			}
			visiting[ft] = true
			next := path + "."
			if sf.Anonymous {
				next = prefix // promoted fields keep the selector Go uses: cfg.Min
			}
			walkFields(ft, idx, next, goName+".", visiting, p, errs)
			delete(visiting, ft)
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			if hasLiveTags(ft.Elem(), map[reflect.Type]bool{}) {
				*errs = append(*errs, tagError(path, "", errors.New("live tags inside a pointer field are not supported: use a struct value so snapshots stay independent")))
			}
		}
	}
}

// dropDuplicates reports tagged fields that share a path (two embedded
// structs with a Port, or an outer field shadowing an embedded one) and keeps
// only the first of each: WatchField, Fields and the debug handler find
// fields by path, and would otherwise pick one silently.
func (p *typePlan) dropDuplicates(errs *[]error) {
	first := make(map[string]int, len(p.fields))
	var drop []int
	for i := range p.fields {
		f := &p.fields[i]
		if j, ok := first[f.path]; ok {
			*errs = append(*errs, tagError(f.path, "", fmt.Errorf(
				"two tagged fields have the path %s: %s and %s; rename one or tag one live:\"-\"", f.path, p.fields[j].goName, f.goName)))
			drop = append(drop, i)
			continue
		}
		first[f.path] = i
	}
	for k := len(drop) - 1; k >= 0; k-- {
		p.fields = slices.Delete(p.fields, drop[k], drop[k]+1)
	}
}

// hasLiveTags reports whether t or a nested struct value field carries a live tag.
func hasLiveTags(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	for i := range t.NumField() {
		sf := t.Field(i)
		if _, ok := sf.Tag.Lookup("live"); ok {
			return true
		}
		if sf.Type.Kind() == reflect.Struct && hasLiveTags(sf.Type, seen) {
			return true
		}
	}
	return false
}

// checkDecodable rejects field types no configuration value can become.
func checkDecodable(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Invalid:
		return fmt.Errorf("field type %s cannot hold configuration", t)
	}
	return nil
}

// fieldNames lists the tagged field paths, for "did you mean" errors.
func (p *typePlan) fieldNames() string {
	names := make([]string, len(p.fields))
	for i := range p.fields {
		names[i] = p.fields[i].path
	}
	return strings.Join(names, ", ")
}

// untaggedNames names the untagged fields in a when= error.
func untaggedNames(sel []string) string {
	if len(sel) == 1 {
		return "field " + sel[0]
	}
	return "fields " + strings.Join(sel, ", ")
}
