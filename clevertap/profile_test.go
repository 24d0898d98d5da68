package clevertap

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"
)

// A record in CleverTap's documented shape, padded the way CleverTap pads.
const paddedProfile = `{ "status" : "success" ,
  "record" : { "identity" : 5555555555 , "email" : "peter@foo.com" , "name" : "Peter" , "phone" : "+4915100000" ,
    "profileData" : { "favoriteColor" : "blue" , "age" : 41 } ,
    "events" : { "App Launched" : { "count" : 10 , "first_seen" : 1457271567 , "last_seen" : 1458041215 } } ,
    "platformInfo" : [
      { "platform" : "iOS" , "os_version" : "17.1" , "app_version" : "2.3" , "make" : "Apple" , "model" : "iPhone15,2" ,
        "push_token" : "ab12" , "objectId" : "-1a063854f83a4c6484285039ecff87cb" , "ls" : 1458041215 } ,
      { "platform" : "Web" , "objectId" : "a8ffcbc9-a747-4ee3-a791-c5e58ad03097" } ,
      { "platform" : "Web" , "objectId" : "a8ffcbc9-a747-4ee3-a791-c5e58ad03097" } ,
      { "platform" : "Android" } ] } }`

func TestProfileDecodesTheWholeRecord(t *testing.T) {
	rec := reply(200, paddedProfile)
	c := setup(t, rec)
	p, err := c.Profile(t.Context(), ByEmail, "peter@foo.com")
	if err != nil {
		t.Fatalf("Profile: %v", err)
	}
	if p.Identity != "5555555555" || p.Email != "peter@foo.com" || p.Name != "Peter" || p.Phone != "+4915100000" {
		t.Errorf("identity, email, name, phone = %q, %q, %q, %q", p.Identity, p.Email, p.Name, p.Phone)
	}
	var pd map[string]any
	if err := json.Unmarshal(p.ProfileData, &pd); err != nil || pd["favoriteColor"] != "blue" || pd["age"] != 41.0 {
		t.Errorf("ProfileData = %s (%v)", p.ProfileData, err)
	}
	want := EventSummary{Count: 10, FirstSeen: time.Unix(1457271567, 0).UTC(), LastSeen: time.Unix(1458041215, 0).UTC()}
	if got := p.Events["App Launched"]; got != want || got.FirstSeen.Location() != time.UTC {
		t.Errorf("Events[App Launched] = %+v, want %+v", got, want)
	}
	if len(p.Platforms) != 4 {
		t.Fatalf("%d devices, want 4", len(p.Platforms))
	}
	ios := Device{Platform: "iOS", ObjectID: "-1a063854f83a4c6484285039ecff87cb", OSVersion: "17.1",
		AppVersion: "2.3", Make: "Apple", Model: "iPhone15,2", PushToken: "ab12", LastSeen: time.Unix(1458041215, 0).UTC()}
	if p.Platforms[0] != ios {
		t.Errorf("device 0 = %+v, want %+v", p.Platforms[0], ios)
	}
	ids := p.ObjectIDs()
	if len(ids) != 2 || ids[0] != ios.ObjectID || ids[1] != "a8ffcbc9-a747-4ee3-a791-c5e58ad03097" {
		t.Errorf("ObjectIDs() = %q, want the two distinct ids in order", ids)
	}
	var raw []map[string]any
	if err := json.Unmarshal(p.PlatformInfo, &raw); err != nil || len(raw) != 4 || raw[0]["ls"] != 1458041215.0 {
		t.Errorf("PlatformInfo not kept as received: %s", p.PlatformInfo)
	}
}

func TestProfileRequest(t *testing.T) {
	tests := []struct {
		by    LookupKey
		value string
		query string
	}{
		{ByEmail, "a+b/c@x.com", "email=a%2Bb%2Fc%40x.com"},
		{ByEmail, "o'neil & co@x.com", "email=o%27neil+%26+co%40x.com"},
		{ByIdentity, "user#1?", "identity=user%231%3F"},
		{ByObjectID, "__g4e8a", "objectId=__g4e8a"},
	}
	for _, tt := range tests {
		rec := reply(200, paddedProfile)
		c := setup(t, rec)
		if _, err := c.Profile(t.Context(), tt.by, tt.value); err != nil {
			t.Fatalf("Profile: %v", err)
		}
		r := rec.requests()[0]
		if r.Method != http.MethodGet || r.Path != "/1/profile.json" || r.RawQuery != tt.query {
			t.Errorf("%s %s?%s, want GET /1/profile.json?%s", r.Method, r.Path, r.RawQuery, tt.query)
		}
		if r.ContentType != "" {
			t.Errorf("GET carried Content-Type %q", r.ContentType)
		}
		if r.AccountID != testAccount || r.Passcode != string(testPasscode) {
			t.Errorf("auth headers %q, %q", r.AccountID, r.Passcode)
		}
	}
}

func TestProfileRefusesBadInputWithoutCalling(t *testing.T) {
	rec := reply(200, paddedProfile)
	c := setup(t, rec)
	for _, tt := range []struct {
		by    LookupKey
		value string
	}{{"phone", "+49"}, {ByEmail, ""}, {ByIdentity, "  "}} {
		if _, err := c.Profile(t.Context(), tt.by, tt.value); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Profile(%q, %q) = %v, want ErrInvalidRequest", tt.by, tt.value, err)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

// Records of other shapes keep what they carry.
func TestProfileLenientShapes(t *testing.T) {
	tests := []struct {
		name   string
		record string
		check  func(t *testing.T, p *Profile)
	}{
		{"no identity, email or name", `{"platformInfo":[{"objectId":"__a"}]}`, func(t *testing.T, p *Profile) {
			if p.Identity != "" || p.Email != "" || !slices.Equal(p.ObjectIDs(), []string{"__a"}) {
				t.Errorf("got %+v", p)
			}
		}},
		{"email and events inside platformInfo", `{"identity":"3","platformInfo":[
			{"objectId":"-g1","email":"nested@example.com","events":{"App Launched":{"count":9,"first_seen":1499404324,"last_seen":1503072454}}},
			{"objectId":"-g2","email":"other@example.com","events":{"App Launched":{"count":1,"first_seen":1499000000,"last_seen":1499000000},"Charged":{"count":2,"first_seen":"1500000000","last_seen":1.5e9}}}]}`,
			func(t *testing.T, p *Profile) {
				if p.Email != "nested@example.com" {
					t.Errorf("Email = %q, want the first device's", p.Email)
				}
				want := map[string]EventSummary{
					"App Launched": {Count: 10, FirstSeen: time.Unix(1499000000, 0).UTC(), LastSeen: time.Unix(1503072454, 0).UTC()},
					"Charged":      {Count: 2, FirstSeen: time.Unix(1500000000, 0).UTC(), LastSeen: time.Unix(1500000000, 0).UTC()},
				}
				if !reflect.DeepEqual(p.Events, want) {
					t.Errorf("Events = %+v, want %+v", p.Events, want)
				}
			}},
		{"top-level email and events win", `{"email":"top@example.com","events":{"X":{"count":1,"first_seen":1,"last_seen":2}},
			"platformInfo":[{"objectId":"a","email":"dev@example.com","events":{"Y":{"count":5}}}]}`, func(t *testing.T, p *Profile) {
			if p.Email != "top@example.com" || len(p.Events) != 1 || p.Events["X"].Count != 1 {
				t.Errorf("got email %q events %+v", p.Email, p.Events)
			}
		}},
		{"df, ls and a numeric phone", `{"platformInfo":[{"objectId":"-v73fc","platform":"iOS","df":[1,"x",{"y":2}],"ls":1700000000,"phone":919876500000}]}`,
			func(t *testing.T, p *Profile) {
				d := p.Platforms[0]
				if d.Phone != "919876500000" || !d.LastSeen.Equal(time.Unix(1700000000, 0)) || p.Phone != "919876500000" {
					t.Errorf("device %+v, profile phone %q", d, p.Phone)
				}
			}},
		{"odd field types", `{"identity":{"a":1},"email":["x"],"name":true,"platformInfo":[{"objectId":"a","ls":"soon","phone":null}]}`,
			func(t *testing.T, p *Profile) {
				if p.Identity != "" || p.Email != "" || p.Name != "true" || !p.Platforms[0].LastSeen.IsZero() {
					t.Errorf("got %+v", p)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := setup(t, reply(200, `{"status":"success","record":`+tt.record+`}`))
			p, err := c.Profile(t.Context(), ByObjectID, "a")
			if err != nil {
				t.Fatalf("Profile: %v", err)
			}
			tt.check(t, p)
		})
	}
}

func TestProfileSummaryMustBeNumbers(t *testing.T) {
	c := setup(t, reply(200, `{"status":"success","record":{"events":{"X":{"count":"many"}}}}`))
	if _, err := c.Profile(t.Context(), ByObjectID, "a"); !errors.Is(err, ErrServer) {
		t.Errorf("Profile = %v, want ErrServer: a count that is not a number must not become 0", err)
	}
}
