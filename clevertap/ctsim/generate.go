package ctsim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// GenOptions shape a generated Dataset. Zero fields take the defaults noted.
type GenOptions struct {
	Seed             int64
	Profiles         int       // default 100
	EventsPerProfile int       // average; default 10
	EventNames       []string  // default App Launched, Product Viewed, Added To Cart, Charged, Notification Clicked
	Start, End       time.Time // event range; default the 90 days before DefaultNow
	SharedEmailEvery int       // every Nth profile shares its email with the previous one (orphan/duplicate); 0 = none
	// Timezone is the account's IANA zone, in which exports render ts;
	// default DefaultTimezone, so that tests meet a non-UTC account unless
	// they ask for another.
	Timezone string
}

// DefaultTimezone is the account zone Generate uses by default: UTC+05:30,
// like the real export the timezone detection was built from.
const DefaultTimezone = "Asia/Kolkata"

// DefaultEventNames are the event names Generate uses by default.
var DefaultEventNames = []string{"App Launched", "Product Viewed", "Added To Cart", "Charged", "Notification Clicked"}

var (
	firstNames = []string{"Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
		"Kavya", "Liam", "Maya", "Nils", "Olga", "Priya", "Quentin", "Rosa", "Sami", "Tara", "Uma", "Victor",
		"Wen", "Xavier", "Yara", "Zoe"}
	lastNames = []string{"Almeida", "Brandt", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen",
		"Ivanova", "Jensen", "Kowalski", "Lopez", "Müller", "Nakamura", "O'Brien", "Patel", "Rossi", "Schmidt",
		"Tanaka", "Virtanen", "Weber", "Yilmaz"}
	emailDomains = []string{"example.com", "example.org", "example.net"}
	cities       = []string{"Berlin", "Lisbon", "Paris", "Madrid", "Amsterdam", "Dublin", "Warsaw", "Milan", "Oslo"}
	iosModels    = []string{"iPhone 13", "iPhone 14", "iPhone 15 Pro", "iPad Air"}
	androidMakes = []struct{ make, model string }{{"samsung", "SM-S911B"}, {"Google", "Pixel 8"}, {"Xiaomi", "2201117TG"}, {"OnePlus", "CPH2449"}}
	utmSources   = []string{"google", "newsletter", "facebook", "direct"}
	categories   = []string{"Shoes", "Books", "Garden", "Kitchen", "Toys"}
)

// Generate returns a realistic dataset for account DemoAccountID, the same
// for the same options: profiles with identities "u-000123" (some without),
// fictional names, emails at example domains and phones, one to three
// devices with iOS, Android or Web objectIds, and events spread over
// Start..End, ordered by time.
func Generate(g GenOptions) *Dataset {
	if g.Profiles <= 0 {
		g.Profiles = 100
	}
	if g.EventsPerProfile <= 0 {
		g.EventsPerProfile = 10
	}
	if len(g.EventNames) == 0 {
		g.EventNames = DefaultEventNames
	}
	if g.End.IsZero() {
		g.End = DefaultNow
	}
	if g.Start.IsZero() || !g.Start.Before(g.End) {
		g.Start = g.End.Add(-90 * 24 * time.Hour)
	}
	r := rand.New(rand.NewPCG(uint64(g.Seed), 0xc1e7e7a9))
	ds := &Dataset{Account: Account{ID: DemoAccountID, Passcodes: []string{DemoPasscode}, Region: "eu1", Timezone: cmp.Or(g.Timezone, DefaultTimezone)}}
	span := g.End.Sub(g.Start)
	for i := 1; i <= g.Profiles; i++ {
		p := genProfile(r, i, g.Start, span)
		if g.SharedEmailEvery > 0 && i > 1 && i%g.SharedEmailEvery == 0 {
			// An orphan: same email as the previous profile, no identity.
			p.Email, p.Identity = ds.Profiles[i-2].Email, ""
			p.ProfileData["Email"] = p.Email
			delete(p.ProfileData, "Identity")
		}
		ds.Profiles = append(ds.Profiles, p)
		n := 1 + r.IntN(2*g.EventsPerProfile)
		for range n {
			d := p.Devices[r.IntN(len(p.Devices))]
			at := p.CreatedAt.Add(randDur(r, g.End.Sub(p.CreatedAt)))
			ds.Events = append(ds.Events, genEvent(r, d, g.EventNames[r.IntN(len(g.EventNames))], at.Truncate(time.Second)))
		}
	}
	slices.SortStableFunc(ds.Events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return ds
}

func genProfile(r *rand.Rand, i int, start time.Time, span time.Duration) Profile {
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	local := strings.ToLower(asciiOnly(first) + "." + asciiOnly(last))
	p := Profile{
		Name:  first + " " + last,
		Email: fmt.Sprintf("%s%d@%s", local, i, emailDomains[r.IntN(len(emailDomains))]),
		Phone: fmt.Sprintf("+4915550%05d", i),
	}
	if r.IntN(8) != 0 { // about one in eight never logged in
		p.Identity = fmt.Sprintf("u-%06d", i)
	}
	// Created in the first half of the range, so every profile has room for events.
	p.CreatedAt = start.Add(randDur(r, span/2)).Truncate(time.Second)
	p.UpdatedAt = p.CreatedAt.Add(randDur(r, span/2)).Truncate(time.Second)
	p.ProfileData = map[string]any{
		"Name": p.Name, "Email": p.Email, "Phone": p.Phone,
		"City":          cities[r.IntN(len(cities))],
		"Customer Type": []string{"Silver", "Gold", "Platinum"}[r.IntN(3)],
		"MSG-email":     r.IntN(2) == 0,
	}
	if p.Identity != "" {
		p.ProfileData["Identity"] = p.Identity
	}
	for range 1 + r.IntN(3) {
		p.Devices = append(p.Devices, genDevice(r))
	}
	return p
}

// genDevice returns a device with an objectId in one of CleverTap's
// formats: iOS "-" + 32 hex or "-g" + IDFA, Android "__" + 32 hex or
// "__g" + ADID, Web a UUID.
func genDevice(r *rand.Rand) Device {
	switch r.IntN(3) {
	case 0:
		d := Device{Platform: "iOS", Make: "Apple", Model: iosModels[r.IntN(len(iosModels))],
			OSVersion: fmt.Sprintf("17.%d", r.IntN(6)), AppVersion: fmt.Sprintf("5.%d.%d", r.IntN(10), r.IntN(10)),
			PushToken: hexOf(r, 32)}
		if r.IntN(4) == 0 {
			d.ObjectID = "-g" + strings.ToUpper(hexOf(r, 16))
		} else {
			d.ObjectID = "-" + hexOf(r, 16)
		}
		return d
	case 1:
		m := androidMakes[r.IntN(len(androidMakes))]
		d := Device{Platform: "Android", Make: m.make, Model: m.model,
			OSVersion: fmt.Sprintf("%d", 12+r.IntN(3)), AppVersion: fmt.Sprintf("5.%d.%d", r.IntN(10), r.IntN(10)),
			PushToken: "fcm:" + hexOf(r, 24)}
		if r.IntN(3) == 0 {
			d.ObjectID = "__g" + hexOf(r, 16)
		} else {
			d.ObjectID = "__" + hexOf(r, 16)
		}
		return d
	default:
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return Device{Platform: "Web", ObjectID: uuidOf(b)}
	}
}

func genEvent(r *rand.Rand, d Device, name string, at time.Time) Event {
	e := Event{ObjectID: d.ObjectID, Name: name, Time: at, EventProps: map[string]any{}, SessionProps: map[string]any{
		"session_source": "Direct",
	}}
	if r.IntN(2) == 0 {
		e.SessionProps = map[string]any{
			"utm_source": utmSources[r.IntN(len(utmSources))], "utm_medium": "email", "utm_campaign": "winter-sale",
			"session_source": "Campaign",
		}
	}
	switch name {
	case "Product Viewed", "Added To Cart":
		e.EventProps["Product ID"] = fmt.Sprintf("P-%05d", r.IntN(100000))
		e.EventProps["Category"] = categories[r.IntN(len(categories))]
	case "Charged":
		e.EventProps["Amount"] = float64(r.IntN(20000)) / 100
		e.EventProps["Currency"] = "EUR"
		e.EventProps["Charged ID"] = fmt.Sprintf("ORD-%07d", r.IntN(10_000_000))
	case "Notification Clicked":
		e.EventProps["Campaign id"] = 1600000000 + r.IntN(1000000)
	default:
		e.EventProps["Platform"] = d.Platform
	}
	return e
}

// randDur returns a random duration in [0, d), or 0 when d is not positive.
func randDur(r *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(r.Int64N(int64(d)))
}

// hexOf returns n random bytes as 2n hex digits.
func hexOf(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return fmt.Sprintf("%x", b)
}

// asciiOnly drops the letters an email local part should not have.
func asciiOnly(s string) string {
	repl := strings.NewReplacer("í", "i", "ü", "u", "'", "")
	return repl.Replace(s)
}
