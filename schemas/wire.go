package schemas

import (
	"encoding/binary"
	"fmt"
)

// The Confluent wire format frames every value as the magic byte 0, the
// schema id as a signed 32-bit big-endian integer, then the Avro binary
// encoding of the value, with no container header.
const (
	// WireMagic is the first byte of every framed value.
	WireMagic byte = 0
	// WireHeaderSize is the length of the magic byte plus the schema id.
	WireHeaderSize = 5
)

// AppendWire appends the wire header for schema id and then body to dst and
// returns the extended slice. The id is written as a 32-bit integer; ids
// outside that range are truncated, as registries never hand them out.
func AppendWire(dst []byte, id int, body []byte) []byte {
	dst = append(dst, WireMagic)
	dst = binary.BigEndian.AppendUint32(dst, uint32(int32(id)))
	return append(dst, body...)
}

// ParseWire splits a framed value into its schema id and its body. The body
// aliases b. It fails with ErrTruncated when b is shorter than the header
// and with ErrBadMagic when the first byte is not 0.
func ParseWire(b []byte) (id int, body []byte, err error) {
	if len(b) < WireHeaderSize {
		return 0, nil, fmt.Errorf("%w: %d bytes, the wire header needs %d",
			ErrTruncated, len(b), WireHeaderSize)
	}
	if b[0] != WireMagic {
		return 0, nil, fmt.Errorf("%w 0x%02x, want 0x00", ErrBadMagic, b[0])
	}
	id = int(int32(binary.BigEndian.Uint32(b[1:WireHeaderSize])))
	return id, b[WireHeaderSize:], nil
}
