package statemachine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// A small evaluator for the subset of JSONPath ASL the definition uses:
// "$", "$.a.b" and context paths "$$.a.b", payload templates (keys ending in
// ".$"), ResultPath "$.a" and the States.Format intrinsic. It lets tests run
// the definition's data flow on contract sample documents without node.

// toAny turns a Go value into its JSON form (maps, slices, float64, ...).
func toAny(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

var simplePathRe = regexp.MustCompile(`^\$\$?(\.[A-Za-z0-9_-]+)*$`)

// evalPath resolves a simple path in doc ("$...") or ctx ("$$...").
func evalPath(path string, doc, ctx any) (any, error) {
	if !simplePathRe.MatchString(path) {
		return nil, fmt.Errorf("path %q is not a simple $.a.b path", path)
	}
	cur := doc
	rest := strings.TrimPrefix(path, "$")
	if strings.HasPrefix(rest, "$") {
		cur, rest = ctx, rest[1:]
	}
	for _, seg := range strings.Split(rest, ".")[1:] {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("path %q: %q is not inside an object", path, seg)
		}
		if cur, ok = m[seg]; !ok {
			return nil, fmt.Errorf("path %q: no field %q", path, seg)
		}
	}
	return cur, nil
}

// payload evaluates a Parameters/ItemSelector template.
func payload(tmpl, doc, ctx any) (any, error) {
	switch t := tmpl.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, v := range t {
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("%s: value is not a string", k)
				}
				var err error
				if strings.HasPrefix(s, "$") {
					out[name], err = evalPath(s, doc, ctx)
				} else {
					out[name], err = intrinsic(s, doc, ctx)
				}
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				continue
			}
			r, err := payload(v, doc, ctx)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			r, err := payload(v, doc, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return tmpl, nil
}

var formatRe = regexp.MustCompile(`^States\.Format\('((?:[^'\\]|\\.)*)'((?:\s*,\s*\$\$?[A-Za-z0-9_.-]*)*)\)$`)

// intrinsic evaluates States.Format('...', path, ...): the only intrinsic
// the definition uses.
func intrinsic(expr string, doc, ctx any) (any, error) {
	m := formatRe.FindStringSubmatch(expr)
	if m == nil {
		return nil, fmt.Errorf("unsupported intrinsic %q", expr)
	}
	var args []string
	for _, p := range strings.Split(m[2], ",")[1:] {
		v, err := evalPath(strings.TrimSpace(p), doc, ctx)
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		args = append(args, s)
	}
	tmpl := m[1]
	if n := strings.Count(tmpl, "{}"); n != len(args) {
		return nil, fmt.Errorf("%q has %d {} for %d arguments", expr, n, len(args))
	}
	for _, a := range args {
		tmpl = strings.Replace(tmpl, "{}", a, 1)
	}
	return tmpl, nil
}

// intrinsicPaths returns the paths an intrinsic's arguments name.
func intrinsicPaths(expr string) []string {
	m := formatRe.FindStringSubmatch(expr)
	if m == nil {
		return nil
	}
	var out []string
	for _, p := range strings.Split(m[2], ",")[1:] {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// applyResultPath puts result into doc at path ("" or "$": replace; "$.a":
// set field a of a copy of doc).
func applyResultPath(path string, doc, result any) (any, error) {
	if path == "" || path == "$" {
		return result, nil
	}
	if !simplePathRe.MatchString(path) || strings.HasPrefix(path, "$$") || strings.Count(path, ".") != 1 {
		return nil, fmt.Errorf("ResultPath %q: only $ and $.field are supported", path)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ResultPath %q: state is not an object", path)
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[path[2:]] = result
	return out, nil
}
