package flowlog_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

func ExampleParser_Scan() {
	const object = `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789012 eni-0a1b2c3d4e5f60718 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1431280876 1431280934 - NODATA
2 123456789012 eni-0a1b2c3d4e5f60718 172.31.9.69 172.31.9.x 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
`
	p := flowlog.NewParser(flowlog.Options{})
	err := p.Scan(strings.NewReader(object), func(r *flow.Record) error {
		fmt.Println(r.Line, r.SrcAddr, r.DstAddr, r.DstPort, r.Bytes, r.Action)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	counts, _ := json.Marshal(p.Counts())
	fmt.Println(string(counts))
	for _, e := range p.Errors() {
		fmt.Println(e)
	}
	// Output:
	// 2 172.31.16.139 172.31.16.21 22 4249 ACCEPT
	// {"lines":4,"records":1,"skipped":{"header":1,"malformed":1,"nodata":1}}
	// line 4: field 5 (dstaddr) "172.31.9.x": invalid IP address
}

func ExampleParseFormat() {
	// The string Terraform gives aws_flow_log.log_format.
	f, err := flowlog.ParseFormat("${version} ${vpc_id} ${srcaddr} ${dstaddr} ${flow-direction} ${encryption-status}")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Header())
	fmt.Println(f.Version())
	// Output:
	// version vpc-id srcaddr dstaddr flow-direction encryption-status
	// 5
}
