package lambdaboot

import (
	"bytes"
	"strings"
	"testing"
)

// TestLogLevel: FL2NF_LOG_LEVEL is applied: a message below the level is
// not written, one at or above it is.
func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		level             string
		debug, info, warn bool
	}{
		{"debug", true, true, true},
		{"info", false, true, true},
		{"warn", false, false, true},
		{"error", false, false, false},
		{"", false, true, true},
	} {
		var b bytes.Buffer
		l := newLogger(&b, tc.level)
		l.Debug("d-msg")
		l.Info("i-msg")
		l.Warn("w-msg")
		out := b.String()
		if strings.Contains(out, "d-msg") != tc.debug || strings.Contains(out, "i-msg") != tc.info || strings.Contains(out, "w-msg") != tc.warn {
			t.Errorf("level %q wrote %q", tc.level, out)
		}
		if tc.info && !strings.HasPrefix(out, "{") {
			t.Errorf("level %q: not JSON: %q", tc.level, out)
		}
	}
}
