// Package config is the one typed configuration of flowlogs2netflow. The
// Lambdas load it from FL2NF_* environment variables (set by Terraform),
// the CLI from flags; both validate it at start and report every problem
// at once.
package config

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
)

// Defaults.
const (
	DefaultChunkSize        = 64 << 20           // uncompressed bytes per chunk
	DefaultSmallObjectBytes = 8 << 20            // objects below this are one chunk, no index pass
	DefaultMaxChunks        = contract.MaxChunks // bounds Step Functions payloads; the splitter also applies contract.ChunkLimit
	DefaultAddressMode      = "auto"
	DefaultMaxLineBytes     = flowlog.DefaultMaxLineBytes // longer lines are counted malformed
	// MaxMaxLineBytes bounds the maximum line length (a reader buffers up
	// to about that much per line).
	MaxMaxLineBytes = 256 << 20
)

// Config is shared by every step.
type Config struct {
	Receivers        []receiver.Receiver
	Format           string // log format for objects without a header line ("" = header required)
	AddressMode      string // auto | packet | interface
	StagingBucket    string // Lambda: bucket for staging objects
	StagingPrefix    string // key prefix for staging objects
	SequenceTable    string // Lambda: DynamoDB table of sequence counters
	ChunkSize        int64
	SmallObjectBytes int64
	MaxChunks        int
	// MaxLineBytes is the maximum line length (parser): a longer line is
	// counted as malformed and skipped without being buffered.
	MaxLineBytes int64
	LogLevel     string // debug | info | warn | error
	// TemplatePackets and TemplateInterval are the sender's template
	// refresh defaults for receivers whose URL does not set them (0: the
	// receiver package's defaults).
	TemplatePackets  int
	TemplateInterval time.Duration
	// SenderTimeout is the sender Lambda's timeout (allocator): a chunk
	// whose paced send would take longer fails at Reserve, before any
	// number is reserved. 0 skips the check.
	SenderTimeout time.Duration
}

// Default returns the defaults, without receivers.
func Default() Config {
	return Config{
		AddressMode:      DefaultAddressMode,
		StagingPrefix:    "flowlogs2netflow/staging/",
		ChunkSize:        DefaultChunkSize,
		SmallObjectBytes: DefaultSmallObjectBytes,
		MaxChunks:        DefaultMaxChunks,
		MaxLineBytes:     DefaultMaxLineBytes,
		LogLevel:         "info",
	}
}

// Env names, one per field.
const (
	EnvReceivers        = "FL2NF_RECEIVERS"
	EnvFormat           = "FL2NF_FORMAT"
	EnvAddressMode      = "FL2NF_ADDRESS_MODE"
	EnvStagingBucket    = "FL2NF_STAGING_BUCKET"
	EnvStagingPrefix    = "FL2NF_STAGING_PREFIX"
	EnvSequenceTable    = "FL2NF_SEQUENCE_TABLE"
	EnvChunkSize        = "FL2NF_CHUNK_SIZE"
	EnvSmallObjectBytes = "FL2NF_SMALL_OBJECT_BYTES"
	EnvMaxChunks        = "FL2NF_MAX_CHUNKS"
	EnvMaxLineBytes     = "FL2NF_MAX_LINE_BYTES"
	EnvLogLevel         = "FL2NF_LOG_LEVEL"
	EnvTemplatePackets  = "FL2NF_TEMPLATE_REFRESH_PACKETS"
	EnvTemplateSeconds  = "FL2NF_TEMPLATE_REFRESH_SECONDS"
	EnvSenderTimeout    = "FL2NF_SENDER_TIMEOUT_SECONDS"
)

// Need says which settings a caller requires beyond the common ones.
type Need struct {
	Receivers, Staging, SequenceTable bool
}

// FromEnv loads the configuration from environment variables through
// getenv (os.Getenv in Lambdas), validating what need requires.
func FromEnv(getenv func(string) string, need Need) (Config, error) {
	c := Default()
	var errs []error
	if v := getenv(EnvReceivers); v != "" {
		rs, err := receiver.ParseList(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvReceivers, err))
		} else if err := checkReceivers(rs); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvReceivers, err))
		}
		c.Receivers = rs
	}
	c.Format = getenv(EnvFormat)
	if v := getenv(EnvAddressMode); v != "" {
		c.AddressMode = v
	}
	c.StagingBucket = getenv(EnvStagingBucket)
	if v := getenv(EnvStagingPrefix); v != "" {
		c.StagingPrefix = v
	}
	c.SequenceTable = getenv(EnvSequenceTable)
	size := func(env string, dst *int64) {
		if v := getenv(env); v != "" {
			n, err := ParseSize(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
				return
			}
			*dst = n
		}
	}
	size(EnvChunkSize, &c.ChunkSize)
	size(EnvSmallObjectBytes, &c.SmallObjectBytes)
	size(EnvMaxLineBytes, &c.MaxLineBytes)
	if v := getenv(EnvMaxChunks); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not an integer", EnvMaxChunks, v))
		}
		c.MaxChunks = n
	}
	if v := getenv(EnvTemplatePackets); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive integer", EnvTemplatePackets, v))
		}
		c.TemplatePackets = n
	}
	if v := getenv(EnvTemplateSeconds); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive number of seconds", EnvTemplateSeconds, v))
		}
		c.TemplateInterval = time.Duration(n) * time.Second
	}
	if v := getenv(EnvSenderTimeout); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 900 {
			errs = append(errs, fmt.Errorf("%s: %q is not a number of seconds from 1 to 900", EnvSenderTimeout, v))
		}
		c.SenderTimeout = time.Duration(n) * time.Second
	}
	if v := getenv(EnvLogLevel); v != "" {
		c.LogLevel = strings.ToLower(v)
	}
	if err := c.Validate(need); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Validate checks the settings, reporting every problem.
func (c Config) Validate(need Need) error {
	var errs []error
	if need.Receivers && len(c.Receivers) == 0 {
		errs = append(errs, errors.New("no receiver configured (FL2NF_RECEIVERS or --to)"))
	}
	if need.Staging && c.StagingBucket == "" {
		errs = append(errs, fmt.Errorf("%s is required", EnvStagingBucket))
	}
	if need.SequenceTable && c.SequenceTable == "" {
		errs = append(errs, fmt.Errorf("%s is required", EnvSequenceTable))
	}
	switch c.AddressMode {
	case "auto", "packet", "interface":
	default:
		errs = append(errs, fmt.Errorf("address mode %q: want auto, packet or interface", c.AddressMode))
	}
	if c.ChunkSize < 1<<10 {
		errs = append(errs, fmt.Errorf("chunk size %d: want at least 1KiB", c.ChunkSize))
	}
	if c.SmallObjectBytes < 0 {
		errs = append(errs, fmt.Errorf("small-object threshold %d is negative", c.SmallObjectBytes))
	}
	if c.MaxChunks < 1 || c.MaxChunks > contract.MaxChunks {
		errs = append(errs, fmt.Errorf("max chunks %d: want 1 to %d", c.MaxChunks, contract.MaxChunks))
	}
	if err := ValidMaxLineBytes(c.MaxLineBytes); err != nil {
		errs = append(errs, err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// ValidMaxLineBytes checks a maximum line length: at least
// flowlog.MinMaxLineBytes (a header line must fit), at most MaxMaxLineBytes.
func ValidMaxLineBytes(n int64) error {
	if n < flowlog.MinMaxLineBytes || n > MaxMaxLineBytes {
		return fmt.Errorf("max line bytes %d: want %dKiB to %dMiB", n, flowlog.MinMaxLineBytes>>10, MaxMaxLineBytes>>20)
	}
	return nil
}

// checkReceivers refuses receivers that reach one collector with one
// exporter identity under two spellings (host name and address). Names
// resolve within a few seconds or are compared as written.
func checkReceivers(rs []receiver.Receiver) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return receiver.CheckSameDestination(ctx, rs, nil)
}

// ParseSize parses a byte size: a plain number or one with a unit
// (KB, MB, GB = powers of 1000; KiB, MiB, GiB = powers of 1024; B).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
		"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	}[strings.ToLower(unit)]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("size %q: want a number of bytes such as 1048576, 64MiB or 1GB", s)
	}
	return int64(v * mult), nil
}
