package reprocess

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Execution-name bounds (docs/aws-facts.md §4.2, §4.3).
const (
	// MaxNameLen is Step Functions' limit on an execution name.
	MaxNameLen = 80
	// MaxTagLen bounds the tag a name starts with ("ev", "rp-<request id>").
	MaxTagLen = 32
	// MaxRequestIDLen bounds a reprocess request id ("rp-" + id ≤ MaxTagLen).
	MaxRequestIDLen = MaxTagLen - len(ReprocessTagPrefix)
	// hashLen is the length of the object-version hash at the end of a
	// name: 15 base32 characters, 75 bits of SHA-256 (leaving 44
	// characters, a whole flow-log fragment, beside a timestamp request
	// id).
	hashLen = 15
)

// Tags that start execution names.
const (
	// ReprocessTagPrefix starts the tag of a reprocess request:
	// "rp-<request id>".
	ReprocessTagPrefix = "rp-"
	// EventTag is the tag for executions started from an S3 event by code
	// that can choose the name (EventBridge itself cannot, aws-facts §3.4).
	EventTag = "ev"
)

// ErrInvalidName marks a tag, request id or execution name that breaks
// the rules.
var ErrInvalidName = errors.New("invalid execution name")

// Name returns the execution name for one object version under tag:
//
//	<tag>-<fragment>-<hash>
//
// hash is 15 lower-case base32 characters of SHA-256 over bucket, key,
// ETag and version ID, so it identifies the object version (the same
// suffix in two names means the same object version); fragment is a
// readable piece of the key's last segment (for an AWS flow-log file
// "<timestamp>_<flow log id>_<file hash>"), cut to fit and left out when
// nothing readable remains. The result is deterministic, at most
// MaxNameLen bytes whatever the key's length, uses only [A-Za-z0-9._-]
// (so it is also a safe S3 key segment: the staging prefix contains it),
// and differs for different tags or object versions.
//
// tag must be 1..MaxTagLen characters of [A-Za-z0-9._-].
func Name(tag string, o Object) (string, error) {
	if err := validTag(tag); err != nil {
		return "", err
	}
	h := objectHash(o)
	avail := MaxNameLen - len(tag) - len(h) - 2
	frag := fragment(o.Key, avail)
	if frag == "" {
		return tag + "-" + h, nil
	}
	return tag + "-" + frag + "-" + h, nil
}

// ReprocessName is Name("rp-"+requestID, o): unique per object version and
// per reprocess request, the same for a re-run with the same request id.
func ReprocessName(requestID string, o Object) (string, error) {
	if err := ValidRequestID(requestID); err != nil {
		return "", err
	}
	return Name(ReprocessTagPrefix+requestID, o)
}

// EventName is Name(EventTag, o), for a starter of event-driven executions
// that sets the name itself: the same object version always gets the same
// name, so Step Functions' name idempotency (90 days) absorbs duplicate
// events.
func EventName(o Object) string {
	n, err := Name(EventTag, o)
	if err != nil {
		panic(err) // EventTag is valid
	}
	return n
}

// ValidRequestID checks a reprocess request id: 1..MaxRequestIDLen
// characters of [A-Za-z0-9._-].
func ValidRequestID(id string) error {
	if id == "" || len(id) > MaxRequestIDLen || !safeChars(id) {
		return fmt.Errorf("%w: request id %q: want 1-%d characters of A-Z a-z 0-9 . _ -", ErrInvalidName, id, MaxRequestIDLen)
	}
	return nil
}

func validTag(tag string) error {
	if tag == "" || len(tag) > MaxTagLen || !safeChars(tag) {
		return fmt.Errorf("%w: tag %q: want 1-%d characters of A-Z a-z 0-9 . _ -", ErrInvalidName, tag, MaxTagLen)
	}
	return nil
}

// forbidden are the characters Step Functions rejects in names besides
// whitespace and control characters.
const forbidden = "<>{}[]?*\"#%\\^|~`$&,;:/"

// ValidName checks name against Step Functions' rules for execution names:
// 1-80 characters; no whitespace; none of < > { } [ ] ? * " # % \ ^ | ~ `
// $ & , ; : /; no control characters.
func ValidName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > MaxNameLen {
		return fmt.Errorf("%w: %q has %d characters, want 1-%d", ErrInvalidName, name, n, MaxNameLen)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidName, name)
	}
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			return fmt.Errorf("%w: %q contains whitespace", ErrInvalidName, name)
		case unicode.IsControl(r):
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidName, name)
		case strings.ContainsRune(forbidden, r):
			return fmt.Errorf("%w: %q contains %q", ErrInvalidName, name, r)
		}
	}
	return nil
}

func safeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !safeByte(s[i]) {
			return false
		}
	}
	return true
}

func safeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// objectHash is hashLen base32 characters of SHA-256 over the object
// version's identity (fields separated by NUL, which S3 keys cannot hold
// unescaped and the other fields never do).
func objectHash(o Object) string {
	h := sha256.New()
	for _, f := range []string{o.Bucket, o.Key, o.ETag, o.VersionID} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return b32.EncodeToString(h.Sum(nil))[:hashLen]
}

// flowLogName matches an AWS flow-log file name without its extension:
// <account>_vpcflowlogs_<region>_<flow log id>_<YYYYMMDDTHHmmZ>_<hash>.
var flowLogName = regexp.MustCompile(`^\d{12}_vpcflowlogs_[a-z0-9-]+_(fl-[0-9a-f]+)_(\d{8}T\d{4}Z)_([0-9a-zA-Z]+)$`)

// extensions are stripped from the key's last segment before it becomes a
// fragment.
var extensions = []string{".gz", ".log", ".parquet", ".txt", ".json", ".zip", ".snappy"}

// fragment returns at most max characters of [A-Za-z0-9._-] naming the
// key, "" when nothing readable fits.
func fragment(key string, max int) string {
	if max <= 0 {
		return ""
	}
	base := path.Base(key)
	if base == "." || base == "/" {
		return ""
	}
	for stripped := true; stripped; {
		stripped = false
		for _, ext := range extensions {
			if s, ok := strings.CutSuffix(base, ext); ok && s != "" {
				base, stripped = s, true
			}
		}
	}
	const trim = "._-"
	if m := flowLogName.FindStringSubmatch(base); m != nil {
		// Timestamp first: readable and sortable; cut at the right.
		f := m[2] + "_" + m[1] + "_" + m[3]
		if len(f) > max {
			f = f[:max]
		}
		return strings.TrimRight(f, trim)
	}
	b := []byte(base)
	for i, c := range b {
		if !safeByte(c) {
			b[i] = '_'
		}
	}
	f := strings.Trim(string(b), trim)
	if len(f) > max {
		// Keep the tail: the end of a name is usually what tells files
		// apart (a timestamp, a counter, a hash).
		f = strings.TrimLeft(f[len(f)-max:], trim)
	}
	return f
}
