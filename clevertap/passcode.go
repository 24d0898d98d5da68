package clevertap

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

const redacted = "[REDACTED]"

// Passcode is a CleverTap account or user passcode. Every way of printing,
// logging or marshalling it yields "[REDACTED]"; the only place its value
// appears is the X-CleverTap-Passcode request header.
type Passcode string

// String returns "[REDACTED]".
func (Passcode) String() string { return redacted }

// GoString returns "[REDACTED]", so %#v does not reveal the value either.
func (Passcode) GoString() string { return redacted }

// Format writes "[REDACTED]" for every verb, including %x and %q.
func (Passcode) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes slog print "[REDACTED]".
func (Passcode) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[REDACTED]".
func (Passcode) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON returns the JSON string "[REDACTED]".
func (Passcode) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// credentials are kept behind a pointer in Client, so even formatting a
// copied Client value with %+v prints an address, not the passcode.
type credentials struct {
	accountID string
	passcode  Passcode
}

func (c *credentials) String() string   { return "{" + c.accountID + " " + redacted + "}" }
func (c *credentials) GoString() string { return c.String() }

// emailLike matches what looks like an email address in a server message.
var emailLike = regexp.MustCompile(`[^\s"'<>(),;:\[\]]+@[^\s"'<>(),;:\[\]]+`)

// redactMessage removes from CleverTap's error text anything the call sent
// that it might echo: the passcode, the looked-up value or ids, the cursor,
// and anything shaped like an email. Errors end up in logs and reports.
func (c *Client) redactMessage(cl *call, msg string) string {
	if msg == "" {
		return msg
	}
	secrets := append([]string{string(c.creds.passcode)}, cl.secret...)
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, redacted)
		}
	}
	return emailLike.ReplaceAllString(msg, redacted)
}
