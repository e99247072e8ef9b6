package flowlog

import "fmt"

// AddressMode chooses which address fields become a record's addresses.
type AddressMode uint8

// Address modes.
const (
	// AddressAuto uses pkt-srcaddr (pkt-dstaddr) when the format has it and
	// its value is not '-', else srcaddr (dstaddr).
	AddressAuto AddressMode = iota
	// AddressPacket uses pkt-srcaddr and pkt-dstaddr only; a line where they
	// are absent or '-' is malformed.
	AddressPacket
	// AddressInterface uses srcaddr and dstaddr only; a line where they are
	// absent or '-' is malformed.
	AddressInterface
)

var addressModeNames = [...]string{AddressAuto: "auto", AddressPacket: "packet", AddressInterface: "interface"}

// String returns "auto", "packet" or "interface".
func (m AddressMode) String() string {
	if int(m) < len(addressModeNames) {
		return addressModeNames[m]
	}
	return fmt.Sprintf("address-mode(%d)", uint8(m))
}

// ParseAddressMode parses "auto", "packet" or "interface" ("" is auto).
func ParseAddressMode(s string) (AddressMode, error) {
	if s == "" {
		return AddressAuto, nil
	}
	for m, n := range addressModeNames {
		if n == s {
			return AddressMode(m), nil
		}
	}
	return 0, fmt.Errorf("parse address mode %q: want auto, packet or interface", s)
}
