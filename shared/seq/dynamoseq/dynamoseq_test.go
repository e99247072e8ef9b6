package dynamoseq

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/seqtest"
)

var tables atomic.Int64

// newTable creates a fresh table on endpoint.
func newTable(t *testing.T, db TableAPI) string {
	t.Helper()
	table := fmt.Sprintf("sequences-%d", tables.Add(1))
	if err := EnsureTable(t.Context(), db, table); err != nil {
		t.Fatal(err)
	}
	return table
}

func newStore(t *testing.T, db API, table string, o seq.Options) *Store {
	t.Helper()
	s, err := New(db, table, Options{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	seqtest.Run(t, seqtest.Factory{
		New: func(t *testing.T, o seq.Options) seq.Store {
			return newStore(t, db, newTable(t, db), o)
		},
		Durable: func(t *testing.T, o seq.Options) (seq.Store, func() seq.Store) {
			srv := dynalite.StartServer(t, dynalite.Options{Path: t.TempDir()})
			db := dynalite.Client(srv.Endpoint())
			table := newTable(t, db)
			return newStore(t, db, table, o), func() seq.Store {
				db := dynalite.Client(srv.Restart(t))
				return newStore(t, db, table, o)
			}
		},
		MaxBytes: 1024, // the counter item: one write unit whatever the history
		Short:    testing.Short(),
		// One exporter's reservations go one at a time through its
		// counter (pend): 16 contenders rather than 64.
		Workers: 16, PerWorker: 50,
	})
}
