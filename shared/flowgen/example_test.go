package flowgen_test

import (
	"fmt"
	"os"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

func ExampleWrite() {
	tot, err := flowgen.Write(os.Stdout, flowgen.Options{
		Lines: 3, Seed: 7, Header: true, Format: flowlog.DefaultFormat,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d records, %d bytes, %d NODATA\n", tot.Records(), tot.IPv4.Bytes+tot.IPv6.Bytes, tot.NoData)
}
