package clevertap

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// MaxDeleteIDs is how many identities or guids one delete call may carry.
const MaxDeleteIDs = 100

// DeleteRequest names the profiles to delete: either identities or guids
// (device objectIds), never both, 1 to 100 of them.
type DeleteRequest struct {
	Identities []string
	GUIDs      []string
}

func (d DeleteRequest) validate() error {
	const op = "delete"
	ids := d.Identities
	switch {
	case len(d.Identities) > 0 && len(d.GUIDs) > 0:
		return invalidf(op, "give identities or guids, not both")
	case len(d.Identities) == 0 && len(d.GUIDs) == 0:
		return invalidf(op, "no identities or guids given")
	case len(d.GUIDs) > 0:
		ids = d.GUIDs
	}
	if len(ids) > MaxDeleteIDs {
		return invalidf(op, "%d ids given, at most %d per call", len(ids), MaxDeleteIDs)
	}
	for i, id := range ids {
		if id == "" {
			return invalidf(op, "id %d is empty", i)
		}
	}
	return nil
}

// Delete asks CleverTap to delete profiles (POST /1/delete/profiles.json).
// CleverTap accepts unknown ids and deletes asynchronously, within about
// 48 hours: verify later, not right after. The request is validated before
// anything is sent (ErrInvalidRequest).
func (c *Client) Delete(ctx context.Context, d DeleteRequest) error {
	if err := d.validate(); err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		Identity []string `json:"identity,omitempty"`
		GUID     []string `json:"guid,omitempty"`
	}{d.Identities, d.GUIDs})
	if err != nil {
		return fmt.Errorf("clevertap: delete: encoding body: %w", err)
	}
	cl := &call{op: "delete", group: GroupDelete, method: http.MethodPost, path: "/1/delete/profiles.json", body: body, limit: maxSmallBody,
		timeout: c.requestTimeout,
		secret:  append(append([]string(nil), d.Identities...), d.GUIDs...)}
	return c.do(ctx, cl, nil)
}
