package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// SendInput describes one Send step: one chunk's frame file for one
// receiver and the sequence range reserved for it.
type SendInput struct {
	Receiver receiver.Receiver
	Key      string
	Range    seq.Range
	Staging  staging.Store
	Conn     send.Conn
	Now      func() time.Time // nil: time.Now
}

// Send is the Send step: it streams the staged frames and sends them with sequence numbers from the range (templates first for v9 and
// IPFIX, since every Send is a new stream), and deletes the staging object
// once everything was handed to the socket.
func Send(ctx context.Context, in SendInput) (send.Result, error) {
	fin, err := NewFinisher(in.Receiver.Protocol)
	if err != nil {
		return send.Result{}, err
	}
	rc, err := in.Staging.Open(ctx, in.Key)
	if err != nil {
		return send.Result{}, err
	}
	defer rc.Close()
	res, err := send.Stream(ctx, rc, fin, in.Conn, in.Range.First, in.Range.Count, send.Options{
		TemplatePackets:  in.Receiver.TemplatePackets,
		TemplateInterval: in.Receiver.TemplateInterval,
		Now:              in.Now,
		Protocol:         in.Receiver.Protocol,
		TemplateSettle:   send.DefaultTemplateSettle,
	})
	if err != nil {
		return res, fmt.Errorf("send %s to %s: %w", in.Key, in.Receiver, err)
	}
	if err := in.Staging.Delete(ctx, in.Key); err != nil {
		return res, err
	}
	return res, nil
}
