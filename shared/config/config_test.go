package config

import (
	"strconv"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
)

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1048576", 1 << 20, false},
		{"64MiB", 64 << 20, false},
		{"64 MiB", 64 << 20, false},
		{"1GB", 1e9, false},
		{"1.5k", 1536, false},
		{"10x", 0, true},
		{"", 0, true},
		{"-5", 0, true},
	}
	for _, tc := range cases {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestFromEnvReportsEverything(t *testing.T) {
	env := map[string]string{
		EnvReceivers:   "netflow5://127.0.0.1:2055,bogus://x",
		EnvAddressMode: "sideways",
		EnvChunkSize:   "huge",
		EnvMaxChunks:   "0",
	}
	_, err := FromEnv(func(k string) string { return env[k] }, Need{Receivers: true, Staging: true, SequenceTable: true})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"bogus", "sideways", "FL2NF_CHUNK_SIZE", "max chunks 0", "FL2NF_STAGING_BUCKET", "FL2NF_SEQUENCE_TABLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	env = map[string]string{EnvReceivers: "ipfix://10.0.0.5?domain=7", EnvStagingBucket: "b", EnvSequenceTable: "t", EnvChunkSize: "16MiB"}
	c, err := FromEnv(func(k string) string { return env[k] }, Need{Receivers: true, Staging: true, SequenceTable: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Receivers) != 1 || c.Receivers[0].Port != 4739 || c.Receivers[0].Domain != 7 || c.ChunkSize != 16<<20 {
		t.Errorf("config %+v", c)
	}
}

// TestMaxChunks: the default is the contract's chunk bound and validation
// accepts exactly 1..contract.MaxChunks, so no configuration lets the
// splitter plan more chunks than the state machine's payloads allow.
func TestMaxChunks(t *testing.T) {
	if got := Default().MaxChunks; got != contract.MaxChunks || DefaultMaxChunks != 256 {
		t.Errorf("default max chunks = %d (DefaultMaxChunks %d), want contract.MaxChunks = 256", got, DefaultMaxChunks)
	}
	cases := []struct {
		env     string
		wantErr string
	}{
		{"", ""},
		{"1", ""},
		{"256", ""},
		{"257", "max chunks 257: want 1 to 256"},
		{"500", "max chunks 500: want 1 to 256"},
		{"0", "max chunks 0: want 1 to 256"},
		{"-3", "max chunks -3: want 1 to 256"},
		{"many", `FL2NF_MAX_CHUNKS: "many" is not an integer`},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			env := map[string]string{EnvMaxChunks: tc.env}
			c, err := FromEnv(func(k string) string { return env[k] }, Need{})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("FromEnv(%s=%q) = %v", EnvMaxChunks, tc.env, err)
				}
				want := contract.MaxChunks
				if tc.env != "" {
					want, _ = strconv.Atoi(tc.env)
				}
				if c.MaxChunks != want {
					t.Errorf("MaxChunks = %d, want %d", c.MaxChunks, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("FromEnv(%s=%q) = %v, want an error containing %q", EnvMaxChunks, tc.env, err, tc.wantErr)
			}
		})
	}
}

func TestMaxLineBytes(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int64
		ok   bool
	}{
		{"", DefaultMaxLineBytes, true},
		{"1MiB", 1 << 20, true},
		{"16KiB", 16 << 10, true},
		{"1KiB", 0, false},
		{"1GiB", 0, false},
		{"lots", 0, false},
	} {
		env := map[string]string{EnvMaxLineBytes: tc.env}
		c, err := FromEnv(func(k string) string { return env[k] }, Need{})
		if (err == nil) != tc.ok || tc.ok && c.MaxLineBytes != tc.want {
			t.Errorf("%s=%q: %d, %v", EnvMaxLineBytes, tc.env, c.MaxLineBytes, err)
		}
	}
}

// TestSameCollectorTwice: the Lambdas refuse, at start, two receivers
// that are one exporter at one collector under two spellings.
func TestSameCollectorTwice(t *testing.T) {
	env := map[string]string{EnvReceivers: "netflow9://localhost:2055,netflow9://127.0.0.1:2055", EnvStagingBucket: "b"}
	_, err := FromEnv(func(k string) string { return env[k] }, Need{Receivers: true, Staging: true})
	if err == nil || !strings.Contains(err.Error(), "netflow9://localhost:2055") || !strings.Contains(err.Error(), "netflow9://127.0.0.1:2055") {
		t.Errorf("FromEnv = %v, want a refusal naming both receivers", err)
	}
	env[EnvReceivers] = "netflow9://localhost:2055?source-id=1,netflow9://127.0.0.1:2055?source-id=2"
	if _, err := FromEnv(func(k string) string { return env[k] }, Need{Receivers: true, Staging: true}); err != nil {
		t.Errorf("different Source IDs refused: %v", err)
	}
}
