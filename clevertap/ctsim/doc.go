// Package ctsim is a simulator of CleverTap's REST API (v1), an
// http.Handler for one account, used by the client's tests, by `ctdsr sim`
// and by the demo.
//
// It models what CleverTap documents and, where the documentation is silent
// or sources disagree, offers each variant as an Option with a stated
// default (the project's CleverTap API notes, "Simulator spec"):
//
//   - Authentication before anything else: a missing or unknown
//     X-CleverTap-Account-Id answers 401 "Account ID is not valid", a wrong
//     passcode 401 "Invalid Credentials". Header names may be in any case and
//     an account may have several passcodes.
//   - GET /1/profile.json by email (ignoring case), identity or objectId,
//     with every not-found variant seen in the wild (NotFoundMode) and a
//     choice among several profiles sharing an email (MultiMatch).
//   - The cursor flow of POST /1/events.json and /1/profiles.json: a
//     frozen snapshot at step 1, opaque percent-encoded cursors compared
//     byte for byte as received, a new cursor per page, replayable pages,
//     pages not ready yet, and cursor expiry on the sim clock.
//   - POST /1/delete/profiles.json with CleverTap's validation, success for
//     unknown ids and an asynchronous effect after DeletionDelay on the sim
//     clock; Recreate models a deleted user coming back.
//   - Per-group in-flight limits answering 429 "Too many concurrent
//     requests" at once with no Retry-After header, an optional leaky
//     bucket, latency, and 500, 503, reset and slow faults, random
//     (seeded) or injected for the nth request.
//   - The shapes real answers have (the API notes, "Real answers seen in
//     public code"): cursors of 1.5 to 2.4 KB percent-encoded with %2B,
//     %2F and %3D (ShortCursors for ~150 characters), a raw previous_cursor
//     beside an encoded next_cursor, event timestamps in the account's
//     timezone, the app, events and profile flags of step 1, and by option
//     a bare last page, step 1 answering 202 (Step1Pending), event names
//     CleverTap refuses to export, records without identity, email or id
//     but with df and device fields, codes as strings, email and events
//     inside platformInfo[0], and huge profiles (PadProfileBytes).
//   - Answers a client must never take for the truth: a lookup answered
//     with another person's record (WrongPerson), a redirect of every /1/
//     request to another host (RedirectTo), not-found texts of any wording
//     (NotFoundText) and lookups refused with any text and status
//     (LookupFailText, LookupFailStatus).
//
// The sim clock moves only with Advance (or POST /_sim/advance?d=1h), so
// tests of deletion and expiry are deterministic; `ctdsr sim` advances it
// with the wall clock. Stats, Lookup, EventsOf and PendingDeletions give
// tests the ground truth to compare a client's results with.
//
// Admin endpoints outside /1/ need no credentials: GET /_sim/stats,
// POST /_sim/advance?d=DURATION and GET /_sim/deletions.
package ctsim
