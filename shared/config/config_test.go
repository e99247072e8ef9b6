package config

import (
	"strings"
	"testing"
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
