package clevertap

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestDeleteSendsOneKindOfID(t *testing.T) {
	tests := []struct {
		req  DeleteRequest
		want map[string][]string
	}{
		{DeleteRequest{Identities: []string{"u1", "u2"}}, map[string][]string{"identity": {"u1", "u2"}}},
		{DeleteRequest{GUIDs: []string{"__g1"}}, map[string][]string{"guid": {"__g1"}}},
	}
	for _, tt := range tests {
		rec := reply(200, `{ "status" : "success" }`)
		c := setup(t, rec)
		if err := c.Delete(t.Context(), tt.req); err != nil {
			t.Fatalf("Delete(%+v): %v", tt.req, err)
		}
		r := rec.requests()[0]
		var got map[string][]string
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("body %s, want %v", r.Body, tt.want)
		}
		if r.Method != "POST" || r.Path != "/1/delete/profiles.json" || r.RawQuery != "" {
			t.Errorf("%s %s?%s, want POST /1/delete/profiles.json", r.Method, r.Path, r.RawQuery)
		}
		if r.ContentType != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q, want application/json", r.ContentType)
		}
	}
}

func TestDeleteValidatesBeforeSending(t *testing.T) {
	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = fmt.Sprint("id", i)
	}
	tests := []struct {
		name string
		req  DeleteRequest
		ok   bool
	}{
		{"nothing", DeleteRequest{}, false},
		{"empty slices", DeleteRequest{Identities: []string{}, GUIDs: []string{}}, false},
		{"both", DeleteRequest{Identities: []string{"u"}, GUIDs: []string{"g"}}, false},
		{"101 identities", DeleteRequest{Identities: append(hundred, "x")}, false},
		{"101 guids", DeleteRequest{GUIDs: append(hundred, "x")}, false},
		{"an empty id", DeleteRequest{GUIDs: []string{"g", ""}}, false},
		{"100 identities", DeleteRequest{Identities: hundred}, true},
		{"100 guids", DeleteRequest{GUIDs: hundred}, true},
	}
	for _, tt := range tests {
		rec := reply(200, `{"status":"success"}`)
		c := setup(t, rec)
		err := c.Delete(t.Context(), tt.req)
		sent := len(rec.requests())
		if tt.ok && (err != nil || sent != 1) {
			t.Errorf("%s: err %v, %d requests; want success in 1", tt.name, err, sent)
		}
		if !tt.ok && (!errors.Is(err, ErrInvalidRequest) || sent != 0) {
			t.Errorf("%s: err %v, %d requests; want ErrInvalidRequest and none sent", tt.name, err, sent)
		}
	}
}
