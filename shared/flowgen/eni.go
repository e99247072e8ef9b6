package flowgen

import (
	"math/rand/v2"
	"net/netip"
)

// eni is one synthetic network interface and what it belongs to.
type eni struct {
	id, account, vpc, subnet, instance []byte // instance "-" when requester-managed
	v4, v4Secondary                    netip.Addr
	v6, v6Secondary                    netip.Addr
	// The addresses as text, rendered once.
	v4Text, v4SecondaryText, v6Text, v6SecondaryText []byte
}

// hexID appends prefix and 17 lower-case hex digits, as AWS ids look.
func hexID(r *rand.Rand, prefix string) []byte {
	const digits = "0123456789abcdef"
	b := append(make([]byte, 0, len(prefix)+17), prefix...)
	for range 17 {
		b = append(b, digits[r.IntN(16)])
	}
	return b
}

// newENIs makes n interfaces spread over a few accounts, VPCs and subnets.
func newENIs(r *rand.Rand, n int) []eni {
	accounts := make([][]byte, 1+n/16)
	for i := range accounts {
		a := make([]byte, 12)
		a[0] = byte('1' + r.IntN(9))
		for j := 1; j < 12; j++ {
			a[j] = byte('0' + r.IntN(10))
		}
		accounts[i] = a
	}
	type vpc struct {
		id      []byte
		subnets [][]byte
	}
	vpcs := make([]vpc, 1+n/8)
	for i := range vpcs {
		vpcs[i].id = hexID(r, "vpc-")
		vpcs[i].subnets = make([][]byte, 1+r.IntN(4))
		for j := range vpcs[i].subnets {
			vpcs[i].subnets[j] = hexID(r, "subnet-")
		}
	}
	enis := make([]eni, n)
	for i := range enis {
		vi := r.IntN(len(vpcs))
		si := r.IntN(len(vpcs[vi].subnets))
		e := &enis[i]
		e.id = hexID(r, "eni-")
		e.account = accounts[vi%len(accounts)]
		e.vpc = vpcs[vi].id
		e.subnet = vpcs[vi].subnets[si]
		if r.IntN(5) == 0 {
			e.instance = []byte("-") // NAT gateway, endpoint, load balancer
		} else {
			e.instance = hexID(r, "i-")
		}
		// 10.<vpc>.<subnet*16 + ...>.<host>, hosts 4..250 (AWS reserves the rest).
		third := byte(si*16 + r.IntN(16))
		host := byte(4 + r.IntN(240))
		e.v4 = netip.AddrFrom4([4]byte{10, byte(vi), third, host})
		e.v4Secondary = netip.AddrFrom4([4]byte{10, byte(vi), third, host + 1 + byte(r.IntN(5))})
		v6 := [16]byte{0x26, 0x00, 0x1f, 0x18, byte(vi >> 8), byte(vi), 0xc0, byte(si)}
		for j := 8; j < 16; j++ {
			v6[j] = byte(r.Uint32())
		}
		e.v6 = netip.AddrFrom16(v6)
		v6[15] ^= 0x5a
		e.v6Secondary = netip.AddrFrom16(v6)
		e.v4Text, e.v4SecondaryText = e.v4.AppendTo(nil), e.v4Secondary.AppendTo(nil)
		e.v6Text, e.v6SecondaryText = e.v6.AppendTo(nil), e.v6Secondary.AppendTo(nil)
	}
	return enis
}
