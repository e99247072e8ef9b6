package collectortest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
)

// writerScript is the independent Parquet writer, relative to the
// repository root: @dsnp/parquetjs (npm, installed by make deps) writing a
// flow-log text file as AWS delivers Parquet (column names with
// underscores, INT_32/INT_64/STRING, optional columns, GZIP pages).
const writerScript = "scripts/node/flowlog-to-parquet.mjs"

// WriteParquet writes the flow-log text file in (header line first, plain
// or gzip) as the Parquet file out with rowsPerGroup rows a row group, with
// a Parquet implementation other than the one the product reads with. It
// returns the rows written.
func WriteParquet(t testing.TB, in, out string, rowsPerGroup int) int64 {
	t.Helper()
	node := Need(t, "node")
	root, err := dynalite.RepoRoot()
	if err != nil {
		unavailable(t, "the Parquet writer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "scripts/node/node_modules/@dsnp/parquetjs")); err != nil {
		unavailable(t, "@dsnp/parquetjs is not installed (make deps, or npm ci --prefix scripts/node): %v", err)
	}
	cmd := exec.Command(node, filepath.Join(root, writerScript), in, out, strconv.Itoa(rowsPerGroup))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("write %s as Parquet: %v\n%s", in, err, stderr.String())
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("write %s as Parquet: output %q: %v", in, b, err)
	}
	return n
}
