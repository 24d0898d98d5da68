package clevertap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// eventsPageResponse is one cursor page of an event export, decoded as a
// stream: records are read one by one from the body, each bounded by
// maxRecord bytes and the whole page by maxPage, so a hostile or broken
// answer cannot make the process hold more than about that much.
type eventsPageResponse struct {
	envelope
	NextCursor string
	Records    []EventRecord
	bad        error // the first record that could not be used

	loc                *time.Location
	maxRecord, maxPage int64
}

func newPageResponse(loc *time.Location, maxRecord, maxPage int64) *eventsPageResponse {
	return &eventsPageResponse{loc: loc, maxRecord: maxRecord, maxPage: maxPage}
}

// streamer is an answer decoded straight from the body rather than from a
// bounded copy of it.
type streamer interface {
	enveloped
	// stream decodes a 2xx body. It returns errNotJSON when the body does
	// not start as a JSON object, errTooLarge when a cap was reached, or a
	// read error from r.
	stream(r io.Reader) error
}

// errNotJSON is a body that is not a JSON object; errTruncated one that
// ends before its JSON does.
var (
	errNotJSON   = errors.New("not a JSON object")
	errTruncated = errors.New("JSON ends early")
)

// pageSlack is what a value may take past maxRecord: separators and
// whitespace around it.
const pageSlack = 512

func (p *eventsPageResponse) stream(body io.Reader) error {
	p.envelope, p.NextCursor, p.Records, p.bad = envelope{}, "", nil, nil
	r := &capReader{r: body, page: p.maxPage, maxRecord: p.maxRecord, limit: min(p.maxPage, p.maxRecord+pageSlack)}
	dec := json.NewDecoder(r)
	dec.UseNumber()
	fail := func(err error) error {
		switch {
		case r.over:
			return fmt.Errorf("%w: %s (WithMaxEventBytes)", errTooLarge, r.what())
		case r.err != nil:
			return r.err
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return errTruncated // the body ended, as sent, before the JSON did
		}
		return err
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		if err != nil && (r.over || r.err != nil) {
			return fail(err)
		}
		return errNotJSON
	}
	for {
		r.value(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		if tok == json.Delim('}') {
			return nil
		}
		key, _ := tok.(string)
		r.value(dec.InputOffset())
		switch key {
		case "status":
			err = dec.Decode(&p.Status)
		case "code":
			err = dec.Decode(&p.Code)
		case "error":
			err = dec.Decode(&p.Error)
		case "next_cursor":
			var raw json.RawMessage
			if err = dec.Decode(&raw); err == nil && json.Unmarshal(raw, &p.NextCursor) != nil && string(raw) != "null" {
				p.spoil(errors.New("next_cursor is not a string"))
			}
		case "records":
			err = p.records(dec, r)
		default:
			err = dec.Decode(&skip{})
		}
		if err != nil {
			return fail(err)
		}
	}
}

// records decodes the records array one record at a time.
func (p *eventsPageResponse) records(dec *json.Decoder, r *capReader) error {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return err
	case tok == nil: // "records": null
		return nil
	case tok != json.Delim('['):
		p.spoil(errors.New("records is not an array"))
		return skipRest(dec, tok)
	}
	for i := 0; dec.More(); i++ {
		r.value(dec.InputOffset())
		var e eventJSON
		if err := dec.Decode(&e); err != nil {
			var se *json.SyntaxError
			if r.over || r.err != nil || errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return err // the stream itself is broken
			}
			p.spoil(fmt.Errorf("record %d: %v", i, err)) // the record was read whole but is unusable
			continue
		}
		if p.bad != nil {
			continue
		}
		var rec EventRecord
		if err := e.record(&rec, p.loc); err != nil {
			p.spoil(fmt.Errorf("record %d: %v", i, err))
			continue
		}
		p.Records = append(p.Records, rec)
	}
	_, err = dec.Token() // ']'
	return err
}

func (p *eventsPageResponse) spoil(err error) {
	if p.bad == nil {
		p.bad = err
	}
}

// skipRest skips the rest of a value whose first token was tok.
func skipRest(dec *json.Decoder, tok json.Token) error {
	if d, ok := tok.(json.Delim); !ok || (d != '[' && d != '{') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

// skip discards a JSON value without keeping a copy of it.
type skip struct{}

func (*skip) UnmarshalJSON([]byte) error { return nil }

// capReader reads at most page bytes of a body, and at most about
// maxRecord bytes past the start of the value being decoded (value moves
// that window forward). When a cap is reached it returns errTooLarge and
// remembers which cap; a read error of the body itself is kept in err.
type capReader struct {
	r         io.Reader
	n         int64 // bytes read so far
	limit     int64 // n may not pass it
	page      int64
	maxRecord int64
	over      bool
	err       error
}

// value starts a value at offset start (as json.Decoder.InputOffset counts).
func (c *capReader) value(start int64) {
	c.limit = max(c.limit, min(c.page, start+c.maxRecord+pageSlack))
}

func (c *capReader) Read(b []byte) (int, error) {
	if c.n >= c.limit {
		c.over = true
		return 0, errTooLarge
	}
	if int64(len(b)) > c.limit-c.n {
		b = b[:c.limit-c.n]
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// what names the cap that was reached.
func (c *capReader) what() string {
	if c.limit >= c.page {
		return fmt.Sprintf("page larger than %d bytes", c.page)
	}
	return fmt.Sprintf("one record (or value) larger than %d bytes", c.maxRecord)
}
