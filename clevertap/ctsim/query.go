package ctsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// reqError is a request the simulator refuses: HTTP status and message;
// the body's code is 400.
type reqError struct {
	httpStatus int
	msg        string
}

// cqlFilter is one CQL property condition.
type cqlFilter struct {
	Name     string `json:"name"`
	Operator string `json:"operator"`
	Value    any    `json:"value"`
}

// cql is a parsed step-1 query: one event name over whole days
// [from, to] in the account timezone, and optional filters.
type cql struct {
	eventName     string
	from, until   time.Time // until is the start of the day after "to"
	eventProps    []cqlFilter
	sessionProps  []cqlFilter
	profileFields []cqlFilter
}

var operators = map[string]bool{
	"equals": true, "not_equals": true, "contains": true, "does_not_contain": true, "exists": true,
	"does_not_exist": true, "greater_than": true, "greater_than_equals": true, "less_than": true,
	"less_than_equals": true,
}

// parseCQL parses a step-1 body. Malformed queries answer HTTP 400.
func parseCQL(body []byte, loc *time.Location) (cql, *reqError) {
	bad := func(format string, args ...any) (cql, *reqError) {
		return cql{}, &reqError{400, fmt.Sprintf(format, args...)}
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil || top == nil {
		return bad("Invalid JSON: the query must be a JSON object")
	}
	var q cql
	if err := json.Unmarshal(top["event_name"], &q.eventName); err != nil || strings.TrimSpace(q.eventName) == "" {
		return bad("event_name is required and must be a string")
	}
	from, err := parseDay(top["from"], loc)
	if err != nil {
		return bad("from: %v", err)
	}
	to, err := parseDay(top["to"], loc)
	if err != nil {
		return bad("to: %v", err)
	}
	if to.Before(from) {
		return bad("from must not be after to")
	}
	q.from, q.until = from, to.AddDate(0, 0, 1)
	if q.eventProps, err = parseFilters(top["event_properties"]); err != nil {
		return bad("event_properties: %v", err)
	}
	if q.sessionProps, err = parseFilters(top["session_properties"]); err != nil {
		return bad("session_properties: %v", err)
	}
	if raw, ok := top["common_profile_properties"]; ok {
		var common struct {
			ProfileFields json.RawMessage `json:"profile_fields"`
		}
		if err := json.Unmarshal(raw, &common); err != nil {
			return bad("common_profile_properties must be an object")
		}
		if q.profileFields, err = parseFilters(common.ProfileFields); err != nil {
			return bad("common_profile_properties.profile_fields: %v", err)
		}
	}
	return q, nil
}

// parseDay parses a YYYYMMDD integer into the start of that day in loc.
func parseDay(raw json.RawMessage, loc *time.Location) (time.Time, error) {
	var n json.Number
	if len(raw) == 0 || json.Unmarshal(raw, &n) != nil || raw[0] == '"' {
		return time.Time{}, fmt.Errorf("must be an integer YYYYMMDD")
	}
	v, err := n.Int64()
	if err != nil || v < 10000101 || v > 99991231 {
		return time.Time{}, fmt.Errorf("%s is not a YYYYMMDD date", n)
	}
	y, m, d := int(v/10000), time.Month(v/100%100), int(v%100)
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if t.Year() != y || t.Month() != m || t.Day() != d {
		return time.Time{}, fmt.Errorf("%d is not a valid date", v)
	}
	return t, nil
}

func parseFilters(raw json.RawMessage) ([]cqlFilter, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var fs []cqlFilter
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&fs); err != nil {
		return nil, fmt.Errorf("must be an array of {name, operator, value}")
	}
	for i, f := range fs {
		if f.Name == "" {
			return nil, fmt.Errorf("filter %d has no name", i)
		}
		if !operators[f.Operator] {
			return nil, fmt.Errorf("filter %d: unknown operator %q", i, f.Operator)
		}
	}
	return fs, nil
}

// matchAll reports whether every filter holds for the properties get
// looks up.
func matchAll(fs []cqlFilter, get func(name string) (any, bool)) bool {
	for _, f := range fs {
		v, ok := get(f.Name)
		if !f.holds(v, ok) {
			return false
		}
	}
	return true
}

// holds reports whether the filter holds for a property value v (present
// reports whether the property is set at all).
func (f cqlFilter) holds(v any, present bool) bool {
	switch f.Operator {
	case "exists":
		return present
	case "does_not_exist":
		return !present
	case "not_equals":
		return !present || !f.equals(v)
	case "does_not_contain":
		return !present || !strings.Contains(strings.ToLower(fmt.Sprint(v)), strings.ToLower(fmt.Sprint(f.Value)))
	}
	if !present {
		return false
	}
	switch f.Operator {
	case "equals":
		return f.equals(v)
	case "contains":
		return strings.Contains(strings.ToLower(fmt.Sprint(v)), strings.ToLower(fmt.Sprint(f.Value)))
	}
	a, okA := number(v)
	b, okB := number(f.Value)
	if !okA || !okB {
		return false
	}
	switch f.Operator {
	case "greater_than":
		return a > b
	case "greater_than_equals":
		return a >= b
	case "less_than":
		return a < b
	default: // less_than_equals
		return a <= b
	}
}

// equals compares numerically when both sides are numbers, else as
// strings ignoring case (CleverTap's Email filter is case-insensitive). A
// list value matches any of its elements.
func (f cqlFilter) equals(v any) bool {
	if list, ok := f.Value.([]any); ok {
		for _, want := range list {
			if (cqlFilter{Value: want}).equals(v) {
				return true
			}
		}
		return false
	}
	if a, okA := number(v); okA {
		if b, okB := number(f.Value); okB {
			return a == b
		}
	}
	return strings.EqualFold(fmt.Sprint(v), fmt.Sprint(f.Value))
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

// profileField looks up a CQL profile field of p: Email, Name and Phone
// (any case) are the profile's own; anything else is a profileData key.
func profileField(p *Profile, name string) (any, bool) {
	if p == nil {
		return nil, false
	}
	switch strings.ToLower(name) {
	case "email":
		return p.Email, p.Email != ""
	case "name":
		return p.Name, p.Name != ""
	case "phone":
		return p.Phone, p.Phone != ""
	}
	v, ok := p.ProfileData[name]
	return v, ok && v != nil
}

func mapField(m map[string]any) func(string) (any, bool) {
	return func(name string) (any, bool) {
		v, ok := m[name]
		return v, ok && v != nil
	}
}
