package clevertap

import (
	"fmt"
	"time"
)

// Date is a calendar day as CleverTap's queries want it: the integer
// YYYYMMDD, e.g. 20260115.
type Date int

// DateOf returns the day of t in loc (UTC when loc is nil).
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return Date(y*10000 + int(m)*100 + d)
}

// Valid reports whether d is a real calendar day between years 1 and 9999.
func (d Date) Valid() bool {
	y, m, day := int(d)/10000, time.Month(int(d)/100%100), int(d)%100
	if d <= 0 || y < 1 || y > 9999 {
		return false
	}
	t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && t.Month() == m && t.Day() == day
}

// String renders d as YYYY-MM-DD, or the raw integer when it is not valid.
func (d Date) String() string {
	if !d.Valid() {
		return fmt.Sprintf("Date(%d)", int(d))
	}
	return fmt.Sprintf("%04d-%02d-%02d", int(d)/10000, int(d)/100%100, int(d)%100)
}

// TSTime is the instant of an event ts (the integer yyyyMMddHHmmss CleverTap
// writes in the account's timezone) in the account timezone loc. It is how
// EventRecord.Time is made, for callers that learn the zone later.
func TSTime(ts int64, loc *time.Location) (time.Time, error) { return parseTS(ts, loc) }

// parseTS turns CleverTap's event ts, the integer yyyyMMddHHmmss in the
// account timezone, into a UTC time. A wall time inside a daylight-saving
// gap is resolved as time.Date does.
func parseTS(ts int64, loc *time.Location) (time.Time, error) {
	day, clock := Date(ts/1_000_000), int(ts%1_000_000)
	hour, minute, sec := clock/10000, clock/100%100, clock%100
	if ts <= 0 || !day.Valid() || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("ts %d is not a valid yyyyMMddHHmmss", ts)
	}
	y, m, d := int(day)/10000, time.Month(int(day)/100%100), int(day)%100
	return time.Date(y, m, d, hour, minute, sec, 0, loc).UTC(), nil
}
