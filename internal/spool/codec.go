package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A record on disk is a frame: the payload's length and CRC-32C (Castagnoli), both big-endian
// uint32, then the payload: topic, key, value (each a uvarint length, +1 for the key and value
// so that 0 stands for nil, then the bytes), the timestamp (varint unix ms, 0 for none) and the
// headers (a uvarint count, then each key and value as a uvarint length and the bytes).

// encode returns a record's frame.
func encode(r *kgo.Record) ([]byte, error) {
	if r.Topic == "" {
		return nil, errors.New("spool: a record without a topic")
	}
	n := 2*binary.MaxVarintLen64 + len(r.Topic) + len(r.Key) + len(r.Value) + 4*binary.MaxVarintLen64
	for _, h := range r.Headers {
		n += 2*binary.MaxVarintLen64 + len(h.Key) + len(h.Value)
	}
	b := make([]byte, headerLen, headerLen+n)
	b = appendBytes(b, []byte(r.Topic), false)
	b = appendBytes(b, r.Key, true)
	b = appendBytes(b, r.Value, true)
	var ms int64
	if !r.Timestamp.IsZero() {
		ms = r.Timestamp.UnixMilli()
	}
	b = binary.AppendVarint(b, ms)
	b = binary.AppendUvarint(b, uint64(len(r.Headers)))
	for _, h := range r.Headers {
		b = appendBytes(b, []byte(h.Key), false)
		b = appendBytes(b, h.Value, false)
	}
	payload := b[headerLen:]
	if len(payload) > maxRecord {
		return nil, fmt.Errorf("spool: a record of %d bytes, more than %d", len(payload), maxRecord)
	}
	binary.BigEndian.PutUint32(b[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[4:8], crc32.Checksum(payload, castagnoli))
	return b, nil
}

// appendBytes appends p with its length (+1 when nilable, 0 meaning nil).
func appendBytes(b, p []byte, nilable bool) []byte {
	n := uint64(len(p))
	if nilable {
		if p == nil {
			return binary.AppendUvarint(b, 0)
		}
		n++
	}
	b = binary.AppendUvarint(b, n)
	return append(b, p...)
}

// decode reads a payload back into a record.
func decode(p []byte) (*kgo.Record, error) {
	d := decoder{p: p}
	r := &kgo.Record{Topic: string(d.bytes(false))}
	r.Key = d.bytes(true)
	r.Value = d.bytes(true)
	if ms := d.varint(); ms != 0 {
		r.Timestamp = time.UnixMilli(ms)
	}
	nh := d.uvarint()
	if nh > uint64(len(p)) {
		d.err = errors.New("header count beyond the record")
	}
	for i := uint64(0); i < nh && d.err == nil; i++ {
		k := string(d.bytes(false))
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: d.bytes(false)})
	}
	if d.err == nil && len(d.p) != 0 {
		d.err = fmt.Errorf("%d bytes after the record", len(d.p))
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode a spooled record: %w", d.err)
	}
	if r.Topic == "" {
		return nil, errors.New("decode a spooled record: no topic")
	}
	return r, nil
}

type decoder struct {
	p   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.err = errors.New("bad length")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.err = errors.New("bad timestamp")
		return 0
	}
	d.p = d.p[n:]
	return v
}

// bytes reads a length and that many bytes (a copy); nilable lengths are +1, 0 meaning nil.
func (d *decoder) bytes(nilable bool) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if nilable {
		if n == 0 {
			return nil
		}
		n--
	}
	if n > uint64(len(d.p)) {
		d.err = errors.New("length beyond the record")
		return nil
	}
	out := make([]byte, n)
	copy(out, d.p[:n])
	d.p = d.p[n:]
	return out
}

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
