// Package clevertap is a typed client for the parts of CleverTap's server
// API (v1) that data-subject requests need: one profile by email, identity or
// objectId (GET /1/profile.json), event exports through cursors
// (/1/events.json) and profile deletion (POST /1/delete/profiles.json).
//
// It imports only the standard library and knows nothing of manifests,
// runs or ledgers.
//
// # Errors
//
// Every failure CleverTap reports, including HTTP 200 with
// "status":"fail", becomes an *APIError that matches exactly one sentinel
// with errors.Is. Check the run-fatal ones first:
//
//	p, err := c.Profile(ctx, clevertap.ByEmail, email)
//	switch {
//	case errors.Is(err, clevertap.ErrUnauthorized),
//		errors.Is(err, clevertap.ErrConfig),
//		errors.Is(err, clevertap.ErrUnreachable):
//		// run-fatal: stop the run; no request is failed or closed by it
//	case errors.Is(err, context.DeadlineExceeded):
//		// the caller's deadline (a wait would have passed it): end cleanly
//	case errors.Is(err, clevertap.ErrNotFound):
//		// CleverTap said there is no such profile
//	case err != nil:
//		var api *clevertap.APIError
//		if errors.As(err, &api) {
//			log.Printf("CleverTap said HTTP %d code %d", api.HTTPStatus, api.Code)
//		}
//		var re *clevertap.RetryError
//		if errors.As(err, &re) {
//			log.Printf("gave up after %d attempts", re.Attempts)
//		}
//	}
//
// Run-fatal, because neither a retry nor a later request can succeed until
// someone acts: ErrUnauthorized (401/403: credentials), ErrConfig (the base
// URL, region or path is wrong: a redirect, which is never followed; a 404
// that is not a CleverTap answer; a non-JSON answer from a server that has
// never answered this client in JSON) and ErrUnreachable (the breaker, below;
// a later run can resume).
//
// ErrNotFound comes only from Profile and only on evidence: HTTP 200
// "success" without a record, or a "fail" answer on HTTP 200, 400 or 404
// whose text says the profile does not exist ("profile not found", "no such
// user", …; a bare "Not found" is what routers say and does not count).
// Every other refusal of a lookup is ErrInvalidRequest, or ErrAmbiguous when
// it says several profiles match. Profile does not compare the record with
// the question; callers must. ErrFilterRejected means an event export with
// EventQuery.FilterEmail was refused: run it again without the filter (if
// that is refused too, the event name itself is the problem). ErrTooLarge
// means an answer passed its cap (WithMaxProfileBytes, WithMaxEventBytes).
//
// After the caller's context is cancelled, calls return an error wrapping
// the context's error. Transport failures keep their cause for errors.Is /
// errors.As (a timed-out attempt is a net.Error whose Timeout is true) but
// never print the URL's query, which holds emails.
//
// # Retries, timeouts and the breaker
//
// A call is attempted at most RetryPolicy.MaxAttempts times. Retried: 429,
// 5xx except 501, "still in progress" (code 2, or HTTP 202 on step 1 and
// cursor pages), connection resets, refusals and timeouts. Never retried:
// 401/403, ErrConfig, other 4xx, ErrTooLarge and the caller's own
// cancellation. Waits are exponential with full jitter, bounded by
// MaxDelay; a Retry-After header, should CleverTap ever send one, is
// honoured up to 10 minutes. A wait that would end after the caller's
// deadline is not started: the call returns at once with an error matching
// context.DeadlineExceeded (and the last attempt's error). When more than
// one attempt was made the error is a *RetryError carrying the attempt
// count and wrapping the last error.
//
// Every attempt is bounded, from sending the request to the last byte of
// the answer: 30 s for lookups, deletes and step 1 (WithRequestTimeout), 2
// minutes for an event page (WithPageTimeout). A timed-out attempt is
// retried like a transport timeout.
//
// A breaker stops the client from waiting on a dead network: once at least
// 5 attempts in a row failed on the network (refused, reset, timed out, DNS)
// and none was answered in the last 2 minutes, every call fails at once with
// ErrUnreachable for 2 minutes; then attempts are let through again and the
// first answer closes it (WithBreaker). Against a server that accepts
// connections and never answers, one call therefore ends after about
// 5 × 30 s instead of using all its attempts.
//
// # Bounded answers
//
// A profile answer is read into a buffer that never grows past 8 MiB
// (WithMaxProfileBytes). Event pages are decoded as a stream, record by
// record: one record may not exceed 1 MiB, a page 128 MiB
// (WithMaxEventBytes). Step 1 asks for events=false&profile=true: records
// without the per-profile event summary (about three quarters of a record),
// with the profile's properties.
//
// # Quota
//
// CleverTap does not limit requests per minute; it limits concurrent
// in-flight requests per account and API group (3 for profiles, events and
// deletes) and answers 429 beyond that. Other systems may share the
// account, so a client uses only a share of the limit. Quota is the one
// place this is computed: at most K = Quota.PerGroup() =
// max(1, floor(Concurrency × Share)) requests in flight per group for all
// the client's goroutines together (K = 2 at DefaultQuota), read back with
// Client.PerGroup; and, when Quota.RPS is set, Quota.PerSecond() = RPS ×
// Share requests per second through a Limiter the caller builds and passes
// with WithRateLimiter. Zero means zero: a Quota field is never defaulted.
//
// Every attempt, retries included, takes a group slot and then waits on
// the optional shared Limiter; backoff sleeps hold no slot. A 429 lowers the
// group's cap by one (never below 1); ten answers in a row without one
// raise it by one again, up to K. Stats reports what happened, including
// the most requests seen in flight per group.
//
// # Secrets
//
// The passcode is a Passcode, which prints, logs and marshals as
// "[REDACTED]"; it travels only in the X-CleverTap-Passcode header. Logging
// (WithLogger) is at Debug level, one line per attempt with method, path,
// group, status, attempt and duration, never the query string. Error texts
// carry CleverTap's own message with anything the call sent (emails,
// identities, cursors) redacted, and never the data of an answer.
package clevertap
