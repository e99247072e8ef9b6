package progress

import (
	"errors"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
)

// TestMemory: the in-memory store has the Store contract: absent is the
// zero Record, Put replaces a partial record, and a done record refuses
// every later Put.
func TestMemory(t *testing.T) {
	var m Memory
	k := Key{Execution: "e", Chunk: 1, Receiver: "r0"}
	if r, err := m.Get(t.Context(), k); err != nil || r != (Record{}) {
		t.Fatalf("absent: %+v, %v", r, err)
	}
	a := Record{Sent: send.Result{Datagrams: 3}}
	if err := m.Put(t.Context(), k, a); err != nil {
		t.Fatal(err)
	}
	done := Record{Sent: send.Result{Datagrams: 9}, Prev: a.Sent, Done: true}
	if err := m.Put(t.Context(), k, done); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(t.Context(), k, a); !errors.Is(err, ErrDone) {
		t.Errorf("Put after done: %v, want ErrDone", err)
	}
	if r, _ := m.Get(t.Context(), k); r != done {
		t.Errorf("record %+v, want %+v", r, done)
	}
	if k.String() != "e/c00001/r0" {
		t.Errorf("Key.String() = %q", k.String())
	}
}
