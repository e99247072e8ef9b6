package pipeline

import (
	"fmt"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/ipfix"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/nfv5"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/nfv9"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
)

// NewEncoder returns the encoder for a receiver's protocol and identity.
func NewEncoder(r receiver.Receiver, emit netflow.Emit) (netflow.Encoder, error) {
	switch r.Protocol {
	case netflow.V5:
		return nfv5.NewEncoder(nfv5.Config{EngineType: r.EngineType, EngineID: r.EngineID}, emit), nil
	case netflow.V9:
		return nfv9.NewEncoder(nfv9.Config{SourceID: r.SourceID, MTU: r.MTU}, emit)
	case netflow.IPFIX:
		return ipfix.NewEncoder(ipfix.Config{ObservationDomain: r.Domain, MTU: r.MTU, InterfaceNames: r.InterfaceNames}, emit)
	}
	return nil, fmt.Errorf("receiver %s: unknown protocol %v", r, r.Protocol)
}

// NewFinisher returns the send-time finisher for a protocol.
func NewFinisher(p netflow.Protocol) (netflow.Finisher, error) {
	switch p {
	case netflow.V5:
		return nfv5.Finisher{}, nil
	case netflow.V9:
		return nfv9.Finisher{}, nil
	case netflow.IPFIX:
		return ipfix.Finisher{}, nil
	}
	return nil, fmt.Errorf("unknown protocol %v", p)
}
