package ctsim

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// DemoAccountID and DemoPasscode are the credentials of the account that
// Generate and DemoDataset create. They are simulator credentials, not
// secrets.
const (
	DemoAccountID = "SIM-ACCOUNT"
	DemoPasscode  = "sim-passcode"
)

// Account is the one CleverTap account (project) a simulator serves.
type Account struct {
	ID        string   `json:"id"`
	Passcodes []string `json:"passcodes"` // account- and user-level passcodes; any one is accepted
	Region    string   `json:"region"`    // eu1 (default), in1, sg1, us1, aps3, mec1 or sk1
	Timezone  string   `json:"timezone"`  // IANA name; event ts values are rendered in it (default UTC)
}

// Device is one CleverTap ID (objectId) of a profile, with the fields the
// API reports in platformInfo.
type Device struct {
	ObjectID   string `json:"object_id"`
	Platform   string `json:"platform"` // iOS, Android or Web
	Make       string `json:"make,omitempty"`
	Model      string `json:"model,omitempty"`
	OSVersion  string `json:"os_version,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
	PushToken  string `json:"push_token,omitempty"`
}

// Profile is one CleverTap user profile. Identity, Email, Phone and Name may
// be empty; several profiles may share an Email.
type Profile struct {
	Identity    string         `json:"identity,omitempty"`
	Email       string         `json:"email,omitempty"`
	Phone       string         `json:"phone,omitempty"`
	Name        string         `json:"name,omitempty"`
	ProfileData map[string]any `json:"profile_data,omitempty"`
	Devices     []Device       `json:"devices"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// Event is one event of one device (ObjectID) at Time.
type Event struct {
	ObjectID     string         `json:"object_id"`
	Name         string         `json:"name"`
	Time         time.Time      `json:"time"`
	EventProps   map[string]any `json:"event_props,omitempty"`
	SessionProps map[string]any `json:"session_props,omitempty"`
}

// Dataset is everything a simulator starts with. It is plain data: New
// copies it, so the caller may reuse or change it afterwards.
type Dataset struct {
	Account  Account   `json:"account"`
	Profiles []Profile `json:"profiles"`
	Events   []Event   `json:"events"`
}

// LoadDataset reads a Dataset from a JSON file (the format of
// testdata/demo/dataset.json). It checks only that the file parses; New
// validates the content.
func LoadDataset(path string) (*Dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	ds, err := parseDataset(b)
	if err != nil {
		return nil, fmt.Errorf("load dataset %s: %w", path, err)
	}
	return ds, nil
}

func parseDataset(b []byte) (*Dataset, error) {
	var ds Dataset
	if err := json.Unmarshal(b, &ds); err != nil {
		return nil, fmt.Errorf("parse dataset: %w", err)
	}
	return &ds, nil
}

// clone returns a copy of p whose maps and slices are not shared with p.
func (p Profile) clone() Profile {
	p.ProfileData = cloneMap(p.ProfileData)
	p.Devices = append([]Device(nil), p.Devices...)
	return p
}

func (e Event) clone() Event {
	e.EventProps = cloneMap(e.EventProps)
	e.SessionProps = cloneMap(e.SessionProps)
	return e
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
