package ie

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

func TestPutString(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 4, "\x00\x00\x00\x00"},
		{"ab", 4, "ab\x00\x00"},
		{"abc", 4, "abc\x00"},
		{"abcd", 4, "abc\x00"},
		{"abcdefgh", 4, "abc\x00"},
		{"aé", 4, "aé\x00"},      // 3 bytes fit
		{"abé", 4, "ab\x00\x00"}, // é would be split
		{"a€", 4, "a€"[:1] + "\x00\x00\x00"},
		{"€", 4, "€\x00"},
	} {
		dst := []byte("XXXXXXXX")[:tc.n]
		PutString(dst, tc.s)
		if diff := cmp.Diff(tc.want, string(dst)); diff != "" {
			t.Errorf("PutString(%q) (-want +got):\n%s", tc.s, diff)
		}
	}
}

func TestInterfaces(t *testing.T) {
	var tab Interfaces
	var got []bool
	for _, id := range []string{"eni-a", "eni-a", "", "eni-b", "eni-a", "eni-b", "", "eni-c", "eni-c"} {
		got = append(got, tab.First(&flow.Record{InterfaceID: id}))
	}
	want := []bool{true, false, false, true, false, false, false, true, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("First (-want +got):\n%s", diff)
	}
}

func TestMappings(t *testing.T) {
	type row struct{ Dir, Fwd, FW uint8 }
	var got []row
	for _, a := range []flow.Action{flow.ActionUnknown, flow.ActionAccept, flow.ActionReject} {
		for _, d := range []flow.Direction{flow.DirectionUnknown, flow.DirectionIngress, flow.DirectionEgress} {
			got = append(got, row{Direction(d), Forwarding(a), Firewall(a)})
		}
	}
	want := []row{
		{0, 0, 0}, {0, 0, 0}, {1, 0, 0},
		{0, 0x40, 0}, {0, 0x40, 0}, {1, 0x40, 0},
		{0, 0x81, 3}, {0, 0x81, 3}, {1, 0x81, 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mappings (-want +got):\n%s", diff)
	}
}

func TestAppendTemplate(t *testing.T) {
	got := AppendTemplate([]byte{0xAA}, 256, []Field{{ID: 8, Length: 4}, {ID: 82, Length: 32}})
	want := []byte{0xAA, 1, 0, 0, 2, 0, 8, 0, 4, 0, 82, 0, 32}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("template record (-want +got):\n%s", diff)
	}
}

func TestMTU(t *testing.T) {
	errConfig := errors.New("bad config")
	for _, tc := range []struct {
		mtu, want int
		ok        bool
	}{
		{0, 1472, true}, {100, 100, true}, {200, 200, true}, {99, 99, false}, {201, 201, false}, {-1, -1, false},
	} {
		m := MaxDatagram(tc.mtu, 1472)
		if m != tc.want {
			t.Errorf("MaxDatagram(%d) = %d, want %d", tc.mtu, m, tc.want)
		}
		if tc.mtu == 0 {
			continue
		}
		if err := CheckMTU(m, 100, 200, errConfig); (err == nil) != tc.ok || err != nil && !errors.Is(err, errConfig) {
			t.Errorf("CheckMTU(%d, 100, 200) = %v, want ok %v", m, err, tc.ok)
		}
	}
}
