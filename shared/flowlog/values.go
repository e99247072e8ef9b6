package flowlog

// Scanning helpers for the hot path. None of them allocates.

// isSpace reports whether c separates fields.
func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// trimLine removes a line terminator ("\n", "\r\n") and surrounding spaces
// and tabs.
func trimLine(b []byte) []byte {
	for len(b) > 0 {
		c := b[len(b)-1]
		if c != '\n' && c != '\r' && !isSpace(c) {
			break
		}
		b = b[:len(b)-1]
	}
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// nextToken splits off the next space-separated token of b. tok is empty
// when b holds no more tokens.
func nextToken(b []byte) (tok, rest []byte) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isSpace(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

// isDash reports whether a value is '-' (not applicable / not computed).
func isDash(b []byte) bool { return len(b) == 1 && b[0] == '-' }

// parseUint parses a decimal unsigned integer of at most max. It returns
// ErrInvalidNumber for anything but digits and ErrOutOfRange above max
// (including overflow of 64 bits).
func parseUint(b []byte, max uint64) (uint64, error) {
	if len(b) == 0 {
		return 0, ErrInvalidNumber
	}
	var v uint64
	if len(b) <= 19 { // cannot overflow 64 bits
		for _, c := range b {
			d := c - '0'
			if d > 9 {
				return 0, ErrInvalidNumber
			}
			v = v*10 + uint64(d)
		}
		if v > max {
			return 0, ErrOutOfRange
		}
		return v, nil
	}
	over := false
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, ErrInvalidNumber
		}
		if v > (max-uint64(d))/10 {
			over = true
		}
		v = v*10 + uint64(d)
	}
	if over {
		return 0, ErrOutOfRange
	}
	return v, nil
}

// equalFold reports whether b equals the upper- or lower-case ASCII word s,
// ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if b[i]|0x20 != s[i]|0x20 {
			return false
		}
	}
	return true
}
