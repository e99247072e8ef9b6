package flowlog

import "fmt"

// UnwrapMessage appends to dst the text of a Firehose record: the "message"
// member of the JSON object rec ({"message":"2 123456789012 eni-..."}),
// string escapes decoded. Other members are validated and ignored; if
// "message" occurs twice the last one wins, as in encoding/json. The error
// wraps ErrFirehose.
func UnwrapMessage(dst, rec []byte) ([]byte, error) {
	start := len(dst)
	i := skipWS(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return dst, fmt.Errorf("not a JSON object: %w", ErrFirehose)
	}
	i = skipWS(rec, i+1)
	found := false
	if i < len(rec) && rec[i] == '}' {
		i++
	} else {
		for {
			if i >= len(rec) || rec[i] != '"' {
				return dst[:start], fmt.Errorf("offset %d: want member name: %w", i, ErrFirehose)
			}
			end, ok := stringEnd(rec, i)
			if !ok {
				return dst[:start], fmt.Errorf("offset %d: bad member name: %w", i, ErrFirehose)
			}
			isMsg := string(rec[i+1:end-1]) == "message"
			i = skipWS(rec, end)
			if i >= len(rec) || rec[i] != ':' {
				return dst[:start], fmt.Errorf("offset %d: want ':': %w", i, ErrFirehose)
			}
			i = skipWS(rec, i+1)
			if isMsg && i < len(rec) && rec[i] == '"' {
				dst, i, ok = appendString(dst[:start], rec, i)
				found = true
			} else {
				isMsg = false
				i, ok = skipValue(rec, i, 0)
			}
			if !ok {
				return dst[:start], fmt.Errorf("offset %d: bad value: %w", i, ErrFirehose)
			}
			i = skipWS(rec, i)
			if i < len(rec) && rec[i] == ',' {
				i = skipWS(rec, i+1)
				continue
			}
			if i < len(rec) && rec[i] == '}' {
				i++
				break
			}
			return dst[:start], fmt.Errorf("offset %d: want ',' or '}': %w", i, ErrFirehose)
		}
	}
	if i = skipWS(rec, i); i != len(rec) {
		return dst[:start], fmt.Errorf("offset %d: data after the object: %w", i, ErrFirehose)
	}
	if !found {
		return dst[:start], fmt.Errorf("no string \"message\" member: %w", ErrFirehose)
	}
	return dst, nil
}
