package clevertap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// flexString accepts a JSON string or number (CleverTap sends identities
// and phone numbers either way) and keeps a boolean as its text. null, an
// object or an array is "": a field of an odd shape does not cost the rest
// of the record.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	*f = ""
	switch {
	case len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		*f = flexString(b[1 : len(b)-1]) // no escapes: the bytes are the string
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case string(b) == "true" || string(b) == "false":
		*f = flexString(b)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	}
	return nil
}

// flexInt is a JSON integer, a float with no fraction (1.6e9), or a string
// holding one; null is 0. Anything else is an error: it is used for counts
// and times that must not silently become 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	*n = 0
	s := string(bytes.TrimSpace(b))
	switch {
	case s == "null":
		return nil
	case strings.HasPrefix(s, `"`):
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = flexInt(i)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("want an integer, got %.20q", s)
	}
	*n = flexInt(f)
	return nil
}

// looseString is a JSON string, or "" for any other value: it never fails
// a decode.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) != nil {
		v = ""
	}
	*s = looseString(v)
	return nil
}

// looseInt is a JSON number or a string holding one ("2", "400"), or 0 for
// anything else: CleverTap's "code" comes either way, and a device's "ls"
// matters too little to fail a record. It never fails a decode.
type looseInt int64

func (n *looseInt) UnmarshalJSON(b []byte) error {
	*n = 0
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
		b = []byte(strings.TrimSpace(s))
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return nil
	}
	*n = looseInt(f)
	return nil
}
