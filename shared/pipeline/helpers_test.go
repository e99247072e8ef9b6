package pipeline

import (
	"context"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
)

func rangeOf(first, n uint64) seq.Range { return seq.Range{First: first, Count: n} }

type nopConn struct{}

func (nopConn) Send(context.Context, []byte) error { return nil }
func (nopConn) Flush(context.Context) error        { return nil }
