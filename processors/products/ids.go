package products

import (
	"encoding/hex"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Field numbers of the compact event ids (ProductState) and of PackedFieldEventIds.
const (
	fRecentUUIDs    protowire.Number = 23
	fPackedFieldIDs protowire.Number = 24

	fPackedIDsUUIDs  protowire.Number = 1
	fPackedIDsFields protowire.Number = 2
	fPackedIDsIndex  protowire.Number = 3
)

// uuidLen is the length of a UUID in canonical text form.
const uuidLen = 36

// canonicalUUID returns the 16 bytes of s when s is a UUID in canonical text form (lower-case
// hex, hyphens after the 8th, 12th, 16th and 20th digit): the form appendUUIDText gives back.
func canonicalUUID(s string) (u [16]byte, ok bool) {
	if len(s) != uuidLen || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < uuidLen; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
		}
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		if hi|lo > 0xf {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, true
}

// hexValue maps the lower-case hex digits to their values and every other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// parseUUIDs appends the 16 bytes of every id to dst and reports true when every id is a UUID
// in canonical text form (dst is then as long as ids).
func parseUUIDs(dst [][16]byte, ids []string) ([][16]byte, bool) {
	for _, id := range ids {
		u, ok := canonicalUUID(id)
		if !ok {
			return dst, false
		}
		dst = append(dst, u)
	}
	return dst, true
}

// appendUUIDText appends the canonical text form of the 16 bytes u.
func appendUUIDText(b []byte, u []byte) []byte {
	var s [uuidLen]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
	return append(b, s[:]...)
}

// uuidTexts returns the ids of uuids (16 bytes each) in canonical text form, as substrings of
// one string.
func uuidTexts(uuids []byte) ([]string, error) {
	if len(uuids)%16 != 0 {
		return nil, fmt.Errorf("%d bytes of UUIDs, not a multiple of 16", len(uuids))
	}
	n := len(uuids) / 16
	buf := make([]byte, 0, n*uuidLen)
	for i := range n {
		buf = appendUUIDText(buf, uuids[16*i:16*i+16])
	}
	all := string(buf)
	out := make([]string, n)
	for i := range out {
		out[i] = all[i*uuidLen : (i+1)*uuidLen]
	}
	return out, nil
}

// appendRecentUUIDs appends uuids (parsed recent_event_ids) as field recent_event_uuids; an
// empty list is written as nothing.
func appendRecentUUIDs(b []byte, uuids [][16]byte) []byte {
	if len(uuids) == 0 {
		return b
	}
	b = protowire.AppendTag(b, fRecentUUIDs, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(16*len(uuids)))
	for _, u := range uuids {
		b = append(b, u[:]...)
	}
	return b
}

// fieldIDs is field_event_id parsed for the compact form: the fields in key order, the
// distinct ids, and for each field the index of its id.
type fieldIDs struct {
	keys  []string
	uuids [][16]byte
	index []int
	// texts are the distinct ids as text, in the order of uuids.
	texts []string
	// backing arrays for the usual sizes
	kb [32]string
	ub [8][16]byte
	tb [8]string
	ib [32]int
}

// parse reads m and reports whether every id is a UUID in canonical text form.
func (f *fieldIDs) parse(m map[string]string) bool {
	f.keys = appendSortedKeys(f.kb[:0], m)
	f.uuids, f.texts, f.index = f.ub[:0], f.tb[:0], f.ib[:0]
	for _, k := range f.keys {
		id := m[k]
		i := slices.Index(f.texts, id) // most fields share the id of the latest observation
		if i < 0 {
			u, ok := canonicalUUID(id)
			if !ok {
				return false
			}
			i = len(f.uuids)
			f.uuids, f.texts = append(f.uuids, u), append(f.texts, id)
		}
		f.index = append(f.index, i)
	}
	return true
}

// appendTo appends the parsed map as field packed_field_event_id; an empty map is written as
// nothing.
func (f *fieldIDs) appendTo(b []byte) []byte {
	if len(f.keys) == 0 {
		return b
	}
	fieldsSize, indexSize := 0, 0
	for i, k := range f.keys {
		fieldsSize += protowire.SizeTag(fPackedIDsFields) + protowire.SizeBytes(len(k))
		indexSize += protowire.SizeVarint(uint64(f.index[i]))
	}
	size := protowire.SizeTag(fPackedIDsUUIDs) + protowire.SizeBytes(16*len(f.uuids)) + fieldsSize +
		protowire.SizeTag(fPackedIDsIndex) + protowire.SizeBytes(indexSize)
	b = protowire.AppendTag(b, fPackedFieldIDs, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = protowire.AppendTag(b, fPackedIDsUUIDs, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(16*len(f.uuids)))
	for _, u := range f.uuids {
		b = append(b, u[:]...)
	}
	for _, k := range f.keys {
		b = appendStringField(b, fPackedIDsFields, k)
	}
	b = protowire.AppendTag(b, fPackedIDsIndex, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(indexSize))
	for _, i := range f.index {
		b = protowire.AppendVarint(b, uint64(i))
	}
	return b
}

// unpackRecentUUIDs appends the ids of recent_event_uuids to recent_event_ids.
func unpackRecentUUIDs(st *marketv1.ProductState, uuids []byte) error {
	ids, err := uuidTexts(uuids)
	if err != nil {
		return fmt.Errorf("recent event uuids: %w", err)
	}
	if len(st.RecentEventIds) == 0 {
		st.RecentEventIds = ids
	} else {
		st.RecentEventIds = append(st.RecentEventIds, ids...)
	}
	return nil
}

// unpackFieldIDs adds the entries of p to field_event_id.
func unpackFieldIDs(st *marketv1.ProductState, p *marketv1.PackedFieldEventIds) error {
	ids, err := uuidTexts(p.GetUuids())
	if err != nil {
		return fmt.Errorf("packed field event ids: %w", err)
	}
	fields, index := p.GetFields(), p.GetUuidIndex()
	if len(fields) != len(index) {
		return fmt.Errorf("packed field event ids: %d fields, %d indexes", len(fields), len(index))
	}
	if st.FieldEventId == nil && len(fields) > 0 {
		st.FieldEventId = make(map[string]string, len(fields))
	}
	for i, f := range fields {
		if int(index[i]) >= len(ids) {
			return fmt.Errorf("packed field event ids: index %d of field %q, %d ids", index[i], f, len(ids))
		}
		st.FieldEventId[f] = ids[index[i]]
	}
	return nil
}
