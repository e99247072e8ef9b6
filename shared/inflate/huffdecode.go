package inflate

import (
	"encoding/binary"
	"io"
)

// huffman decodes symbols of the current Huffman block until the output
// reaches limit or the block ends.
func (z *Reader) huffman(limit int) error {
	for z.w < limit {
		done, err := z.huffFast(limit)
		if err != nil || done || z.w >= limit {
			return err
		}
		// Fewer than 8 input bytes buffered: one symbol the careful way.
		done, err = z.huffSlow()
		if err != nil || done {
			return err
		}
	}
	return nil
}

// huffFast decodes while at least 8 input bytes are buffered. Each
// iteration refills the bit buffer to 56+ bits with one 64-bit load, enough
// for a literal/length code with its extra bits and a distance code with
// its extra bits (15+5+15+13 = 48), or up to three literals.
func (z *Reader) huffFast(limit int) (done bool, err error) {
	in := z.in[:z.end]
	pos, bitbuf, nb := z.pos, z.bits, z.nb
	win := z.win
	w := z.w
	lt, dt := z.lit, z.dist
	histLow := z.histLow
	inLimit := len(in) - 8
	for w < limit && pos <= inLimit {
		bitbuf |= binary.LittleEndian.Uint64(in[pos:]) << (nb & 63)
		pos += int((63 - nb) >> 3)
		nb |= 56

		e := lt[bitbuf&litMask]
		if e&eLit != 0 {
			n := e & 31
			bitbuf >>= n
			nb -= uint(n)
			win[w] = byte(e >> 16)
			w++
			e = lt[bitbuf&litMask]
			if e&eLit != 0 {
				n = e & 31
				bitbuf >>= n
				nb -= uint(n)
				win[w] = byte(e >> 16)
				w++
				e = lt[bitbuf&litMask]
				if e&eLit != 0 {
					n = e & 31
					bitbuf >>= n
					nb -= uint(n)
					win[w] = byte(e >> 16)
					w++
				}
			}
			continue
		}
		if e&eSub != 0 {
			e = lt[int(e>>16)+int(bitbuf>>litBits)&(1<<(e>>8&15)-1)]
			if e&eLit != 0 {
				n := e & 31
				bitbuf >>= n
				nb -= uint(n)
				win[w] = byte(e >> 16)
				w++
				continue
			}
		}
		if e&eExc != 0 {
			if e&eEOB != 0 {
				n := e & 31
				bitbuf >>= n
				nb -= uint(n)
				z.pos, z.bits, z.nb, z.w = pos, bitbuf, nb, w
				z.endBlock()
				return true, nil
			}
			z.pos, z.bits, z.nb, z.w = pos, bitbuf, nb, w
			return false, z.fail(z.bitPos(), ErrCorrupt, "invalid literal/length code")
		}
		saved := bitbuf
		n := e & 31
		bitbuf >>= n
		nb -= uint(n)
		length := int(e>>16) + int(saved&(1<<n-1)>>(e>>8&15))

		e = dt[bitbuf&distMask]
		if e&eSub != 0 {
			e = dt[int(e>>16)+int(bitbuf>>distBits)&(1<<(e>>8&15)-1)]
		}
		if e&eExc != 0 {
			z.pos, z.bits, z.nb, z.w = pos, bitbuf, nb, w
			return false, z.fail(z.bitPos(), ErrCorrupt, "invalid distance code")
		}
		saved = bitbuf
		n = e & 31
		bitbuf >>= n
		nb -= uint(n)
		dist := int(e>>16) + int(saved&(1<<n-1)>>(e>>8&15))
		if dist > w-histLow {
			z.pos, z.bits, z.nb, z.w = pos, saved, nb+uint(n), w
			return false, z.fail(z.bitPos(), ErrCorrupt, "distance %d beyond the %d bytes of history", dist, w-histLow)
		}
		if dist >= 8 && length <= 48 {
			src := w - dist
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(win[w+i:], binary.LittleEndian.Uint64(win[src+i:]))
			}
		} else {
			copyMatch(win, w, dist, length)
		}
		w += length
	}
	z.pos, z.bits, z.nb, z.w = pos, bitbuf, nb, w
	return false, nil
}

// huffSlow decodes one symbol (and its match) near the end of the buffered
// input, loading bytes one at a time and only as needed.
func (z *Reader) huffSlow() (done bool, err error) {
	at := z.bitPos()
	z.load(maxCodeLen + 5)
	e := z.lit[z.bits&litMask]
	if e&eSub != 0 {
		e = z.lit[int(e>>16)+int(z.bits>>litBits)&(1<<(e>>8&15)-1)]
	}
	if e&eExc != 0 && e&eEOB == 0 {
		return false, z.fail(at, ErrCorrupt, "invalid literal/length code")
	}
	n := uint(e & 31)
	if n > z.nb {
		return false, z.fail(at, io.ErrUnexpectedEOF, "truncated literal/length code")
	}
	saved := z.bits
	z.consume(n)
	if e&eLit != 0 {
		z.win[z.w] = byte(e >> 16)
		z.w++
		return false, nil
	}
	if e&eEOB != 0 {
		z.endBlock()
		return true, nil
	}
	length := int(e>>16) + int(saved&(1<<n-1)>>(e>>8&15))

	at = z.bitPos()
	z.load(maxCodeLen + 13)
	e = z.dist[z.bits&distMask]
	if e&eSub != 0 {
		e = z.dist[int(e>>16)+int(z.bits>>distBits)&(1<<(e>>8&15)-1)]
	}
	if e&eExc != 0 {
		return false, z.fail(at, ErrCorrupt, "invalid distance code")
	}
	n = uint(e & 31)
	if n > z.nb {
		return false, z.fail(at, io.ErrUnexpectedEOF, "truncated distance code")
	}
	saved = z.bits
	z.consume(n)
	dist := int(e>>16) + int(saved&(1<<n-1)>>(e>>8&15))
	if dist > z.w-z.histLow {
		return false, z.fail(at, ErrCorrupt, "distance %d beyond the %d bytes of history", dist, z.w-z.histLow)
	}
	copyMatch(z.win, z.w, dist, length)
	z.w += length
	return false, nil
}
