package flowlog

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSkipReasonNames(t *testing.T) {
	want := []string{"header", "blank", "nodata", "skipdata", "malformed", "unsupported", "filtered", "control"}
	var got []string
	for _, r := range SkipReasons() {
		got = append(got, r.String())
		back, err := ParseSkipReason(r.String())
		if err != nil || back != r {
			t.Errorf("ParseSkipReason(%q) = %v, %v", r, back, err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if _, err := ParseSkipReason("bogus"); err == nil {
		t.Error("ParseSkipReason(bogus) succeeded")
	}
	if _, err := SkipReason(200).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown reason succeeded")
	}
	b, err := json.Marshal(map[SkipReason]int{ReasonNoData: 1})
	if err != nil || string(b) != `{"nodata":1}` {
		t.Errorf("reason as map key: %s, %v", b, err)
	}
}

func TestCountsJSON(t *testing.T) {
	var c Counts
	for _, r := range []SkipReason{ReasonHeader, ReasonNone, ReasonNone, ReasonNoData, ReasonMalformed, ReasonNone} {
		c.Count(r)
	}
	c.Drop(ReasonUnsupported, 1)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"lines":6,"records":2,"skipped":{"header":1,"malformed":1,"nodata":1,"unsupported":1}}`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var back Counts
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := back.Check(); err != nil {
		t.Error(err)
	}
	if b, _ := json.Marshal(Counts{}); string(b) != `{"lines":0,"records":0,"skipped":{}}` {
		t.Errorf("zero Counts = %s", b)
	}
	for _, bad := range []string{`{"skipped":{"bogus":1}}`, `{"skipped":{"none":1}}`, `{"lines":"x"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestCountsAddCheck(t *testing.T) {
	a := Counts{Lines: 5, Records: 3}
	a.Skipped[ReasonHeader], a.Skipped[ReasonNoData] = 1, 1
	b := Counts{Lines: 2, Records: 1}
	b.Skipped[ReasonNoData] = 1
	a.Add(b)
	want := Counts{Lines: 7, Records: 4}
	want.Skipped[ReasonHeader], want.Skipped[ReasonNoData] = 1, 2
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("Add (-want +got):\n%s", diff)
	}
	if err := a.Check(); err != nil {
		t.Error(err)
	}
	a.Lines++
	if err := a.Check(); !errors.Is(err, ErrUnbalanced) {
		t.Errorf("Check of unbalanced counts = %v", err)
	}
}

func TestStringsOfUnknownValues(t *testing.T) {
	if got := SkipReason(99).String(); got != "reason(99)" {
		t.Errorf("SkipReason(99) = %q", got)
	}
	if got := AddressMode(9).String(); got != "address-mode(9)" {
		t.Errorf("AddressMode(9) = %q", got)
	}
	var m map[SkipReason]int
	if err := json.Unmarshal([]byte(`{"skipdata":2,"filtered":1}`), &m); err != nil || m[ReasonSkipData] != 2 || m[ReasonFiltered] != 1 {
		t.Errorf("reason map keys: %v, %v", m, err)
	}
	if err := json.Unmarshal([]byte(`{"bogus":2}`), &m); err == nil {
		t.Error("unknown reason key accepted")
	}
}
