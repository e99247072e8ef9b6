package flowlog

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestUnwrapMessage(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`{"message":"2 123 eni-1 OK"}`, "2 123 eni-1 OK", true},
		{" \r\n{ \"message\" :\t\"a\" }\n", "a", true},
		{`{"message":"q\"b\\s\/\b\f\n\r\t"}`, "q\"b\\s/\b\f\n\r\t", true},
		{`{"message":"\u0041\u00e9\u20ac\ud83d\ude00"}`, "Aé€😀", true},
		{`{"message":"\u00E9\u00c9"}`, "éÉ", true},
		{`{"message":"\ud83d x"}`, "\uFFFD x", true},
		{`{"message":"\ude00"}`, "\uFFFD", true},
		{`{"message":"\ud83d\u0041"}`, "\uFFFDA", true},
		{"{\"message\":\"\xff\"}", "\uFFFD", true},
		{`{"a":1,"message":"m","b":[true,false,null,{"c":-1.5e+3}],"d":{}}`, "m", true},
		{`{"message":"first","message":"last"}`, "last", true},
		{`{"message":""}`, "", true},
		{`{"message":1}`, "", false},
		{`{"message":"x",}`, "", false},
		{`{"message":"x"} {}`, "", false},
		{`{"message":"x"`, "", false},
		{`{"message":"x\q"}`, "", false},
		{`{"message":"x\u12"}`, "", false},
		{"{\"message\":\"a\tb\"}", "", false},
		{`{"Message":"x"}`, "", false},
		{`{}`, "", false},
		{`[]`, "", false},
		{``, "", false},
		{`{"a":01,"message":"x"}`, "", false},
		{`{"a":-,"message":"x"}`, "", false},
		{`{"a":1.,"message":"x"}`, "", false},
		{`{"a":1e,"message":"x"}`, "", false},
		{`{"a":tru,"message":"x"}`, "", false},
		{`{"a":[1 2],"message":"x"}`, "", false},
		{`{"a":{"b"},"message":"x"}`, "", false},
		{`{"a" 1,"message":"x"}`, "", false},
		{`{message:"x"}`, "", false},
	}
	for _, tc := range tests {
		got, err := UnwrapMessage([]byte("prefix:"), []byte(tc.in))
		if tc.ok {
			if err != nil || string(got) != "prefix:"+tc.want {
				t.Errorf("UnwrapMessage(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		} else if !errors.Is(err, ErrFirehose) || string(got) != "prefix:" {
			t.Errorf("UnwrapMessage(%q) = %q, %v; want ErrFirehose and dst unchanged", tc.in, got, err)
		}
		checkUnwrapAgainstJSON(t, []byte(tc.in))
	}
}

func TestUnwrapDeepNesting(t *testing.T) {
	deep := []byte(`{"a":`)
	for range 100 {
		deep = append(deep, '[')
	}
	for range 100 {
		deep = append(deep, ']')
	}
	deep = append(deep, `,"message":"x"}`...)
	if _, err := UnwrapMessage(nil, deep); !errors.Is(err, ErrFirehose) {
		t.Errorf("100 levels of nesting: %v, want ErrFirehose", err)
	}
}

// checkUnwrapAgainstJSON compares UnwrapMessage with encoding/json: what it
// accepts is valid JSON, and for valid UTF-8 it decodes the same message.
func checkUnwrapAgainstJSON(t *testing.T, in []byte) {
	t.Helper()
	got, err := UnwrapMessage(nil, in)
	if err == nil && !json.Valid(in) {
		t.Errorf("UnwrapMessage(%q) accepted invalid JSON", in)
	}
	if !json.Valid(in) || !utf8.Valid(in) {
		return
	}
	var m map[string]any
	if json.Unmarshal(in, &m) != nil {
		return // valid JSON, but not an object
	}
	want, isString := m["message"].(string)
	if isString != (err == nil) {
		// Nesting deeper than maxDepth is the one accepted difference.
		if !isString || depth(in) <= maxDepth {
			t.Errorf("UnwrapMessage(%q) = %q, %v; encoding/json gives %q", in, got, err, m["message"])
		}
		return
	}
	if isString && string(got) != want {
		t.Errorf("UnwrapMessage(%q) = %q; encoding/json gives %q", in, got, want)
	}
}

// depth over-estimates the nesting depth of a JSON text.
func depth(b []byte) int {
	d, max := 0, 0
	for _, c := range b {
		switch c {
		case '{', '[':
			d++
			if d > max {
				max = d
			}
		case '}', ']':
			d--
		}
	}
	return max
}
