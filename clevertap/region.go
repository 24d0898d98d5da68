package clevertap

import (
	"fmt"
	"strings"
)

// Region is the CleverTap data centre an account lives in. Every call of a
// run, including both steps of a cursor export, must go to the account's
// region.
type Region string

// The regions CleverTap documents (sk1 is in CleverTap's region table and
// two SDKs).
const (
	RegionEU1  Region = "eu1"  // Europe, the default region
	RegionIN1  Region = "in1"  // India
	RegionUS1  Region = "us1"  // United States
	RegionSG1  Region = "sg1"  // Singapore
	RegionAPS3 Region = "aps3" // Indonesia
	RegionMEC1 Region = "mec1" // Middle East (UAE)
	RegionSK1  Region = "sk1"  // South Korea
)

// DefaultRegion is used when no region or base URL is given.
const DefaultRegion = RegionEU1

var regionHosts = map[Region]string{
	// The official table gives the bare host for Europe; eu1.api.clevertap.com
	// also serves EU accounts, but is not documented as an exact alias.
	RegionEU1:  "https://api.clevertap.com",
	RegionIN1:  "https://in1.api.clevertap.com",
	RegionUS1:  "https://us1.api.clevertap.com",
	RegionSG1:  "https://sg1.api.clevertap.com",
	RegionAPS3: "https://aps3.api.clevertap.com",
	RegionMEC1: "https://mec1.api.clevertap.com",
	RegionSK1:  "https://sk1.api.clevertap.com",
}

// BaseURL returns the API base URL of the region, without a trailing slash.
func (r Region) BaseURL() (string, error) {
	u, ok := regionHosts[r]
	if !ok {
		return "", fmt.Errorf("clevertap: unknown region %q (want one of %s)", string(r), regionList())
	}
	return u, nil
}

// ParseRegion parses a region name such as "eu1" or "US1", ignoring case and
// surrounding space.
func ParseRegion(s string) (Region, error) {
	r := Region(strings.ToLower(strings.TrimSpace(s)))
	if _, err := r.BaseURL(); err != nil {
		return "", err
	}
	return r, nil
}

func regionList() string {
	return "eu1, in1, us1, sg1, aps3, mec1, sk1"
}
