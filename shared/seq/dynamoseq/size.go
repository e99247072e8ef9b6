package dynamoseq

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxItemBytes is DynamoDB's item size limit.
const MaxItemBytes = 400 * 1024

// ItemSize is the size of item by DynamoDB's published rules, as dynalite
// computes them: the sum over attributes of name length plus value size,
// where a string or binary is its length in bytes, a number is 1 byte plus
// 1 per two significant digits (plus 1 in some even-digit cases, plus 1 if
// negative), null and boolean are 1, and a list or map is 3 bytes plus, per
// element, 1 byte plus its size (and a map key's length). A test checks it
// against dynalite's limit byte for byte.
func ItemSize(item map[string]types.AttributeValue) int {
	size := 0
	for name, v := range item {
		size += len(name) + valueSize(v)
	}
	return size
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + len(v.Value) + ItemSize(v.Value)
	}
	return 0
}

// numberSize follows dynalite's formula on the decimal coefficient c (leading
// and trailing zeros removed) and exponent e (of its first digit):
// 1 + ceil(len(c)/2), plus 1 when len(c) and e are both even, plus 1 when
// negative; zero is 1.
func numberSize(s string) int {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		for _, c := range strings.TrimLeft(s[i+1:], "+-") {
			exp = exp*10 + int(c-'0')
		}
		if strings.HasPrefix(s[i+1:], "-") {
			exp = -exp
		}
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	// e of the first digit: len(intPart)-1, adjusted for leading zeros.
	lead := len(digits) - len(strings.TrimLeft(digits, "0"))
	digits = strings.Trim(digits, "0")
	if digits == "" {
		return 1
	}
	e := len(intPart) - 1 - lead + exp
	n := 1 + (len(digits)+1)/2
	if len(digits)%2 == 0 && e%2 == 0 {
		n++
	}
	if neg {
		n++
	}
	return n
}
